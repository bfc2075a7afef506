package gen

import (
	"fmt"
	"math"
	"time"

	"github.com/flowsql/flowsql/columnar"
)

// Defaults of Config, chosen as the package doc explains.
const (
	DefaultFlowsPerBlock = 20_000
	DefaultInterval      = 5 * time.Minute
	DefaultDuration      = 24 * time.Hour
	DefaultClients       = 5_000
	DefaultServers       = 20_000
	DefaultZipfS         = 1.1
	DefaultIPv6Share     = 0.30
	DefaultDiurnal       = 0.5
	DefaultPersist       = 0.25
)

// DefaultStart is the first block of a Config with a zero Start: Monday
// 2025-03-10 00:00 UTC.
var DefaultStart = time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)

// Limits of Config fields.
const (
	MaxClients = 50_000  // per interface, in one 10.x.0.0/16
	MaxServers = 100_000 // 90% of them in 198.18.0.0/15 and the TEST-NETs
	MaxBlocks  = 1 << 20 // blocks per interface
)

// Config describes a dataset. The zero value of every field means its
// default; fields where zero is itself a useful value take a negative number
// to mean "none".
type Config struct {
	// Seed makes the dataset: the same Config gives the same blocks, byte for
	// byte, on the same platform.
	Seed uint64

	// Start is the first block's time, rounded down to a multiple of
	// Interval since the Unix epoch. Its location sets the local time of day
	// of the diurnal curve. Zero means DefaultStart.
	Start time.Time

	// Duration is the time covered; the generator writes
	// ceil(Duration/Interval) blocks per interface. Zero means 24 h.
	Duration time.Duration

	// Interval is the block length, whole seconds, at most 24 h. Zero means
	// 5 min.
	Interval time.Duration

	// Ifaces names the interfaces; each gets its own clients and its own
	// random stream. Nil means ["eth0"].
	Ifaces []string

	// FlowsPerBlock is the mean number of rows of a block at average daily
	// activity on a weekday; the diurnal curve scales it by 1±Diurnal and
	// weekends by 0.7. Zero means 20,000.
	FlowsPerBlock int

	// Clients is the number of internal client hosts per interface (1 to
	// MaxClients); Servers the number of servers shared by all interfaces
	// (1 to MaxServers). Zero means 5,000 and 20,000.
	Clients, Servers int

	// ZipfS is the exponent of the popularity of clients and servers
	// (rank k is chosen with weight k^-s), in (0, 4]. Zero means 1.1.
	ZipfS float64

	// IPv6Share is the fraction of client-server pairs that talk IPv6, in
	// [0, 1]. Zero means 0.3; negative means IPv4 only.
	IPv6Share float64

	// Diurnal is the amplitude of the daily activity curve, in [0, 0.95]:
	// activity is 1+Diurnal at 14:00 local time and 1-Diurnal at 02:00.
	// Zero means 0.5; negative means flat.
	Diurnal float64

	// Persist is the fraction of a block's rows that continue a long-lived
	// flow of the previous block, in [0, 0.6]. Zero means 0.25; negative
	// means none.
	Persist float64
}

// resolved returns c with every default filled in, and checks it.
func (c Config) resolved() (Config, error) {
	if c.Start.IsZero() {
		c.Start = DefaultStart
	}
	if c.Duration == 0 {
		c.Duration = DefaultDuration
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Ifaces == nil {
		c.Ifaces = []string{"eth0"}
	}
	if c.FlowsPerBlock == 0 {
		c.FlowsPerBlock = DefaultFlowsPerBlock
	}
	if c.Clients == 0 {
		c.Clients = DefaultClients
	}
	if c.Servers == 0 {
		c.Servers = DefaultServers
	}
	if c.ZipfS == 0 {
		c.ZipfS = DefaultZipfS
	}
	c.IPv6Share = defaultOrNone(c.IPv6Share, DefaultIPv6Share)
	c.Diurnal = defaultOrNone(c.Diurnal, DefaultDiurnal)
	c.Persist = defaultOrNone(c.Persist, DefaultPersist)
	if err := c.validate(); err != nil {
		return Config{}, err
	}
	iv := int64(c.Interval / time.Second)
	start := c.Start.Unix()
	c.Start = time.Unix(start-start%iv, 0).In(c.Start.Location())
	return c, nil
}

// defaultOrNone maps 0 to def and negative values to 0.
func defaultOrNone(v, def float64) float64 {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

func (c *Config) validate() error {
	bad := func(field string, v any, want string) error {
		return fmt.Errorf("%w: %s = %v, want %s", ErrInvalidConfig, field, v, want)
	}
	if c.Interval < time.Second || c.Interval > 24*time.Hour || c.Interval%time.Second != 0 {
		return bad("Interval", c.Interval, "whole seconds from 1s to 24h")
	}
	if c.Start.Unix() < 0 {
		return bad("Start", c.Start, "1970-01-01 or later")
	}
	if c.Duration < 0 {
		return bad("Duration", c.Duration, "> 0")
	}
	if n := c.blocksPerIface(); n > MaxBlocks {
		return bad("Duration", c.Duration, fmt.Sprintf("at most %d blocks of %v", MaxBlocks, c.Interval))
	}
	if len(c.Ifaces) == 0 {
		return bad("Ifaces", "[]", "at least one interface")
	}
	seen := make(map[string]bool, len(c.Ifaces))
	for _, name := range c.Ifaces {
		if name == "" || len(name) > 255 {
			return bad("Ifaces", fmt.Sprintf("%q", name), "names of 1 to 255 bytes")
		}
		if seen[name] {
			return bad("Ifaces", fmt.Sprintf("%q twice", name), "distinct names")
		}
		seen[name] = true
	}
	if c.FlowsPerBlock < 1 || c.maxRows() > columnar.MaxBlockRows {
		return bad("FlowsPerBlock", c.FlowsPerBlock, fmt.Sprintf("1 or more, with peak blocks within %d rows", columnar.MaxBlockRows))
	}
	if c.Clients < 1 || c.Clients > MaxClients {
		return bad("Clients", c.Clients, fmt.Sprintf("1 to %d", MaxClients))
	}
	if c.Servers < 1 || c.Servers > MaxServers {
		return bad("Servers", c.Servers, fmt.Sprintf("1 to %d", MaxServers))
	}
	if !(c.ZipfS > 0 && c.ZipfS <= 4) {
		return bad("ZipfS", c.ZipfS, "in (0, 4]")
	}
	if !(c.IPv6Share >= 0 && c.IPv6Share <= 1) {
		return bad("IPv6Share", c.IPv6Share, "in [0, 1]")
	}
	if !(c.Diurnal >= 0 && c.Diurnal <= 0.95) {
		return bad("Diurnal", c.Diurnal, "in [0, 0.95]")
	}
	if !(c.Persist >= 0 && c.Persist <= 0.6) {
		return bad("Persist", c.Persist, "in [0, 0.6]")
	}
	return nil
}

// blocksPerIface is ceil(Duration / Interval).
func (c *Config) blocksPerIface() int64 {
	n := int64(c.Duration / c.Interval)
	if c.Duration%c.Interval != 0 {
		n++
	}
	return n
}

// maxRows bounds the rows of any block: the peak of the diurnal curve plus
// the row jitter.
func (c *Config) maxRows() int {
	return int(math.Ceil(float64(c.FlowsPerBlock)*(1+c.Diurnal)*(1+rowJitter))) + 1
}
