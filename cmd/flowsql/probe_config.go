package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/flowsql/flowsql/ingest"
)

// The probe's configuration file is YAML with the same keys as the long
// flags, for example:
//
//	# /etc/flowsql/probe.yaml
//	interfaces: [eth0, eth1]   # or: any
//	exclude:
//	  - docker0
//	  - "veth*"
//	interval: 5m
//	retain: 30d
//	max-disk: 10GiB
//	metrics: 127.0.0.1:9930
//	promisc: false
//	fanout: 1
//	local: 10.0.0.0/8
//
// It is read by a small parser of that subset of YAML, not by a YAML
// library: one flat mapping of scalars and lists (flow "[a, b]" or block
// "- a" items, or a comma-separated string), plain or quoted scalars and
// # comments. Anything else (nesting, anchors, multi-line scalars, several
// documents) is an error naming the line. The subset is all the probe needs
// and keeps a dependency out of the binary (DESIGN §6).

// probeConfig is the probe's configuration: defaults, then the file, then
// the flags given on the command line.
type probeConfig struct {
	Interfaces []string      // names, or the single word "any"
	Exclude    []string      // glob patterns (path.Match) of names to leave out
	Interval   time.Duration // block length
	Retain     string        // retention age (columnar.ParseAge), "" for none
	MaxDisk    string        // disk budget (columnar.ParseSize), "" for none
	Metrics    string        // host:port of /metrics, "" for none
	Promisc    bool
	Fanout     int
	Local      string // --local CIDR list
}

// errConfig marks a bad configuration file.
var errConfig = errors.New("bad configuration")

// defaultProbeConfig returns the defaults of every key.
func defaultProbeConfig() probeConfig {
	return probeConfig{Interval: ingest.DefaultInterval, Metrics: defaultMetricsAddr, Fanout: 1}
}

// configKeys are the keys a configuration file may hold.
var configKeys = []string{"interfaces", "exclude", "interval", "retain", "max-disk", "metrics", "promisc", "fanout", "local"}

// yamlValue is one key's value in the file.
type yamlValue struct {
	line   int
	scalar string
	list   []string
	isList bool
}

// readProbeConfig reads the configuration file path into c.
func readProbeConfig(path string, c *probeConfig) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	vals, err := parseFlatYAML(string(data))
	if err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	if err := c.apply(vals); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	return nil
}

// apply sets the fields named in vals.
func (c *probeConfig) apply(vals map[string]yamlValue) error {
	for key, v := range vals {
		var err error
		switch key {
		case "interfaces":
			c.Interfaces = v.strings()
		case "exclude":
			c.Exclude = v.strings()
		case "interval":
			c.Interval, err = parseInterval(v.scalar)
		case "retain":
			c.Retain = v.scalar
		case "max-disk":
			c.MaxDisk = v.scalar
		case "metrics":
			c.Metrics = v.scalar
		case "local":
			c.Local = strings.Join(v.strings(), ",")
		case "promisc":
			c.Promisc, err = parseYAMLBool(v.scalar)
		case "fanout":
			c.Fanout, err = strconv.Atoi(v.scalar)
		}
		if err == nil && v.isList && key != "interfaces" && key != "exclude" && key != "local" {
			err = fmt.Errorf("a list where a single value is expected")
		}
		if err != nil {
			return fmt.Errorf("%w: line %d: %s: %v", errConfig, v.line, key, err)
		}
	}
	return nil
}

// strings returns a list value, or a scalar split at commas.
func (v yamlValue) strings() []string {
	if v.isList {
		return v.list
	}
	var out []string
	for _, s := range strings.Split(v.scalar, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// parseInterval reads a duration ("5m", "300s") or a number of seconds.
func parseInterval(s string) (time.Duration, error) {
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(s)
}

func parseYAMLBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "yes", "on":
		return true, nil
	case "false", "no", "off", "":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", s)
}

// parseFlatYAML parses the YAML subset described above into key -> value.
func parseFlatYAML(text string) (map[string]yamlValue, error) {
	vals := map[string]yamlValue{}
	var listKey string // key whose block list is being read
	for i, raw := range strings.Split(text, "\n") {
		n := i + 1
		line := strings.TrimRight(stripComment(raw), " \r")
		if strings.TrimSpace(line) == "" || (n == 1 && line == "---") {
			continue
		}
		if strings.ContainsRune(line, '\t') {
			return nil, fmt.Errorf("%w: line %d: tab characters are not allowed", errConfig, n)
		}
		if line[0] == ' ' || line[0] == '-' {
			item, ok := strings.CutPrefix(strings.TrimLeft(line, " "), "-")
			if !ok || listKey == "" || (item != "" && item[0] != ' ') {
				return nil, fmt.Errorf("%w: line %d: unexpected indentation (only top-level keys and list items)", errConfig, n)
			}
			s, err := yamlScalar(strings.TrimSpace(item))
			if err != nil {
				return nil, fmt.Errorf("%w: line %d: %v", errConfig, n, err)
			}
			v := vals[listKey]
			v.list, v.isList = append(v.list, s), true
			vals[listKey] = v
			continue
		}
		key, rest, ok := strings.Cut(line, ":")
		if !ok || (rest != "" && rest[0] != ' ') {
			return nil, fmt.Errorf("%w: line %d: want \"key: value\"", errConfig, n)
		}
		key = strings.TrimSpace(key)
		if !isConfigKey(key) {
			return nil, fmt.Errorf("%w: line %d: unknown key %q (known: %s)", errConfig, n, key, strings.Join(configKeys, ", "))
		}
		if _, dup := vals[key]; dup {
			return nil, fmt.Errorf("%w: line %d: %s given twice", errConfig, n, key)
		}
		v, err := yamlValueOf(strings.TrimSpace(rest))
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %s: %v", errConfig, n, key, err)
		}
		v.line = n
		vals[key] = v
		listKey = ""
		if strings.TrimSpace(rest) == "" {
			listKey = key // a block list may follow
		}
	}
	return vals, nil
}

func isConfigKey(k string) bool {
	for _, c := range configKeys {
		if c == k {
			return true
		}
	}
	return false
}

// yamlValueOf reads the value after "key:": a flow list or a scalar.
func yamlValueOf(s string) (yamlValue, error) {
	if !strings.HasPrefix(s, "[") {
		sc, err := yamlScalar(s)
		return yamlValue{scalar: sc}, err
	}
	body, ok := strings.CutSuffix(s, "]")
	if !ok {
		return yamlValue{}, fmt.Errorf("unterminated list %q", s)
	}
	v := yamlValue{isList: true}
	body = strings.TrimSpace(body[1:])
	if body == "" {
		return v, nil
	}
	for _, item := range strings.Split(body, ",") {
		sc, err := yamlScalar(strings.TrimSpace(item))
		if err != nil {
			return v, err
		}
		v.list = append(v.list, sc)
	}
	return v, nil
}

// yamlScalar reads a plain, 'single' or "double" quoted scalar.
func yamlScalar(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	switch s[0] {
	case '"':
		u, err := strconv.Unquote(s)
		if err != nil {
			return "", fmt.Errorf("bad double-quoted string %s", s)
		}
		return u, nil
	case '\'':
		if len(s) < 2 || s[len(s)-1] != '\'' {
			return "", fmt.Errorf("bad single-quoted string %s", s)
		}
		return strings.ReplaceAll(s[1:len(s)-1], "''", "'"), nil
	case '&', '*', '!', '|', '>', '{', '[', '@', '`':
		return "", fmt.Errorf("%q: anchors, tags, block scalars and nested collections are not supported", s)
	}
	return s, nil
}

// stripComment removes a # comment (at the start or after a space),
// outside quotes.
func stripComment(line string) string {
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else if c == '\\' && quote == '"' {
				i++
			}
		case (c == '"' || c == '\'') && (i == 0 || strings.IndexByte(" [,", line[i-1]) >= 0):
			quote = c
		case c == '#' && (i == 0 || line[i-1] == ' '):
			return line[:i]
		}
	}
	return line
}
