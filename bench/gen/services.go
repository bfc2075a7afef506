package gen

// Protocol classes of a flow key; the IP protocol number also depends on the
// address family (ICMP is 1 over IPv4, 58 over IPv6).
const (
	classTCP  = 0
	classUDP  = 1
	classICMP = 2
)

// protoNumber returns the IP protocol of a class and family.
func protoNumber(class uint8, v6 bool) uint8 {
	switch {
	case class == classTCP:
		return 6
	case class == classUDP:
		return 17
	case v6:
		return 58
	}
	return 1
}

// profile is the shape of a service's counters (counters.go).
type profile uint8

const (
	profWeb         profile = iota // request out, download in (HTTP, TLS, QUIC, IMAP)
	profUpload                     // bulk out (SMTP, submission)
	profBulk                       // large transfers either way (SMB, high ports)
	profInteractive                // many small packets both ways (SSH, RDP)
	profQuery                      // small requests, larger answers (databases, LDAP, APIs)
	profTunnel                     // VPN: steady and balanced
	profDNS                        // one datagram each way per query
	profNTP                        // one datagram each way
	profLog                        // one-way datagrams (syslog)
	profSTUN                       // a few small datagrams each way
	profICMP                       // echo requests and replies
	profScan                       // inbound SYNs from a scanner, RST or nothing back
	profBlocked                    // outbound SYNs that get no answer
)

// portHigh marks a service entry whose port is a random high port.
const portHigh = 0

// service is one entry of a port table.
type service struct {
	port   uint16 // portHigh: a random port from 1024 up, heavy-tailed to low numbers
	class  uint8
	weight float64 // per mille of the flows the table chooses
	prof   profile
}

// serviceTable is the port mix of flows to ordinary servers (neither DNS,
// NTP nor syslog, which go to the infrastructure servers, nor ICMP). The
// weights, per mille, fall off roughly as rank^-1.4, as port popularity
// does in published traffic studies: HTTPS first, then HTTP, QUIC and SSH.
// TCP weighs 832 and UDP 168 (TestTables); with the infrastructure, scan,
// blocked and ICMP draws and the merging of repeated keys, the rows come
// out about 75% TCP, 22% UDP and 3% ICMP (TestDistributionProtocols).
var serviceTable = []service{
	{443, classTCP, 450, profWeb},
	{80, classTCP, 150, profWeb},
	{443, classUDP, 130, profWeb}, // QUIC
	{22, classTCP, 30, profInteractive},
	{8080, classTCP, 25, profWeb},
	{3306, classTCP, 20, profQuery},
	{8443, classTCP, 20, profWeb},
	{993, classTCP, 12, profWeb},
	{5432, classTCP, 12, profQuery},
	{25, classTCP, 10, profUpload},
	{445, classTCP, 10, profBulk},
	{5228, classTCP, 10, profWeb},
	{3389, classTCP, 8, profInteractive},
	{3478, classUDP, 8, profSTUN},
	{853, classTCP, 6, profQuery},
	{587, classTCP, 5, profUpload},
	{389, classTCP, 5, profQuery},
	{6443, classTCP, 5, profQuery},
	{9200, classTCP, 5, profQuery},
	{1194, classUDP, 4, profTunnel},
	{51820, classUDP, 4, profTunnel},
	{4500, classUDP, 4, profTunnel},
	{500, classUDP, 2, profTunnel},
	{5222, classTCP, 4, profInteractive},
	{portHigh, classTCP, 45, profBulk},
	{portHigh, classUDP, 16, profBulk},
}

// internalTable is the mix of the primary services of internal servers:
// databases, directories, file shares and remote shells more than the web.
var internalTable = []service{
	{443, classTCP, 200, profWeb},
	{22, classTCP, 150, profInteractive},
	{3306, classTCP, 120, profQuery},
	{5432, classTCP, 100, profQuery},
	{445, classTCP, 80, profBulk},
	{8080, classTCP, 80, profWeb},
	{389, classTCP, 60, profQuery},
	{3389, classTCP, 60, profInteractive},
	{6443, classTCP, 50, profQuery},
	{9200, classTCP, 50, profQuery},
	{80, classTCP, 50, profWeb},
}

// topTable is the mix of the primary services of the most popular servers
// (popularTop): the CDNs and clouds everyone talks to serve the web.
var topTable = []service{
	{443, classTCP, 800, profWeb},
	{80, classTCP, 100, profWeb},
	{443, classUDP, 100, profWeb},
}

// popularServers is how many of the most popular servers serve topTable:
// 1% of them, at least 10.
func popularServers(servers int) int { return max(10, servers/100) }

// infraService is a service answered by a few infrastructure servers:
// every client's DNS queries go to the same two resolvers.
type infraService struct {
	service
	servers []int     // indices into population.infra
	weights []float64 // preference among them (the primary resolver first)
}

// Infrastructure endpoints (population.infra): two internal resolvers, two
// public ones, two internal and two public NTP servers, one log collector.
const (
	infraDNS1 = iota
	infraDNS2
	infraPubDNS1
	infraPubDNS2
	infraNTP1
	infraNTP2
	infraPubNTP1
	infraPubNTP2
	infraSyslog
	numInfra
)

// infraTable holds the infrastructure services. Their weights are per mille
// of all flow draws (not of serviceTable).
var infraTable = []infraService{
	{service{53, classUDP, 110, profDNS}, []int{infraDNS1, infraDNS2, infraPubDNS1, infraPubDNS2}, []float64{60, 30, 6, 4}},
	{service{53, classTCP, 5, profQuery}, []int{infraDNS1, infraDNS2}, []float64{2, 1}},
	{service{123, classUDP, 20, profNTP}, []int{infraNTP1, infraNTP2, infraPubNTP1, infraPubNTP2}, []float64{40, 40, 10, 10}},
	{service{514, classUDP, 5, profLog}, []int{infraSyslog}, []float64{1}},
}

// Shares of flow draws, per mille. What is left goes to serviceTable.
const (
	icmpPerMille    = 22  // echo to a server
	infraPerMille   = 140 // the sum of infraTable's weights
	scanPerMille    = 10  // inbound scans of internal clients
	blockedPerMille = 15  // outbound SYNs to a server that never answers
	// affinityPerMille of the flows to an ordinary server use its primary
	// service; the rest draw from serviceTable.
	affinityPerMille = 700
)

// scanPorts are the ports scanners knock on, most often first.
var scanPorts = []uint16{22, 23, 3389, 445, 80, 8080, 443, 5900, 1433, 3306, 6379, 9200, 2375, 8443, 25}
