// Package gen makes realistic, deterministic flow datasets and writes them
// through the real store (columnar.DB.Write), for benchmarks, demos and
// tests of the query path at scale. `flowsql gen` is its command.
//
// A dataset is one columnar.Block per interface per interval (default 24 h
// of 5 min blocks on eth0, 20,000 flows per block: 288 blocks, 5.8 million
// rows, made in about two seconds on one core, plus the store's own time). The
// same Config gives the same blocks byte for byte (on one platform: the
// float math of the counter draws may differ in the last bit across
// architectures); each interface has its own random stream, seeded from
// Seed and the interface name, so adding an interface leaves the others
// alone.
//
// # What the traffic looks like
//
// The interface is a site's edge: internal clients talk to servers, most of
// them outside. Rows are oriented as DESIGN §2 says: sip is the side that
// opened the conversation; out is what the site's side sent (the client's,
// except for inbound scans), in what it received.
//
// Hosts. Each interface has Clients (5,000) internal clients in 10.X.0.0/16
// (X from the interface name), in /24s of up to 200 hosts, and one /64 per
// /24 under an fd00::/8 prefix; 7 in 10 of their IPv6 interface ids are
// random (privacy addresses). Servers (20,000) are shared by all
// interfaces: one in ten is internal (10.250.0.0/14 and the site's
// fd00::/8 /48), the others external, in the benchmarking block
// 198.18.0.0/15 and the documentation blocks 192.0.2.0/24, 198.51.100.0/24
// and 203.0.113.0/24 for IPv4, and in 512 providers' /48s of 2001:db8::/32
// for IPv6, half with small configured interface ids. Nine infrastructure
// servers (two internal and two public resolvers, four NTP servers, a log
// collector) and 64 scanners (203.0.113.192/26, 2001:db8:bad::/48) complete
// the cast. Every host is dual-stack; a client-server pair uses IPv6 when a
// hash of the pair falls under IPv6Share (0.3), so a pair keeps its family
// and about 70% of rows are IPv4.
//
// Sizes. With the default populations a 20,000-flow block holds about
// 4,000 distinct sip and 6,000 distinct dip addresses, as a five-minute
// flow table of a mid-size site does; these dictionary sizes weigh on the
// store's bytes per row (BenchmarkStoreBytesPerRow).
//
// Popularity. Clients and servers are chosen by Zipf rank with exponent
// ZipfS (1.1), the heavy tail measured for both talkers and destinations in
// enterprise and campus traces: the top 1% of clients send and receive
// well over half the bytes.
//
// Services. Of all connection draws, 14% are DNS (11% UDP, 0.5% TCP), NTP
// and syslog to the infrastructure servers, 2.2% ICMP echo, 1% inbound scans
// of random clients (SYN in, maybe a RST out) and 1.5% outbound SYNs nobody
// answers. The rest go to a Zipf-chosen server: 70% of them on the server's
// own primary service, drawn once per server, the others on a port drawn
// afresh. The most popular 1% of servers (the CDNs and clouds) serve the
// web: 443/tcp, 80/tcp or QUIC. The other draws use a Zipf-like table of
// well-known ports (443 first, then 80, QUIC on 443/udp, SSH, 8080, MySQL,
// ...; internal servers lean to databases, directories, SSH and SMB) plus
// 6% random high ports whose density falls with the port number. The resulting rows are about 75%
// TCP, 22% UDP and 3% ICMP, and 443 is the top port.
//
// Counters. Each service has a profile. Web and bulk transfers draw a
// lognormal packet count (median 6 to 400 by profile) with a Pareto tail
// (alpha 1.15) for 1-5% of them, so most flows are a few packets and a few
// carry gigabytes; downloads put about 60% of the packets and most bytes in
// (frames fill towards 1514 bytes as transfers grow, requests and ACKs are
// small), 4% of web flows are uploads. DNS is 1-8 queries of ~80 bytes with
// ~160-byte answers, NTP one 90-byte datagram each way, pings 98 bytes (1-5,
// or one a second from a monitor), SYNs 74 bytes; IPv6 frames are 20 bytes
// larger. A block's packets per flow are capped at 40,000 per second.
//
// Keys. A row is one (sip, dip, dport, proto): a draw whose key is already
// a row of the block adds its counters to that row, as the flow table
// merges connections that differ only in the client port. Drawing goes on
// until the block has its number of distinct rows (ErrKeySpace if the
// populations cannot supply them).
//
// Time. The rows of a block follow the activity curve
// 1 + Diurnal·cos(2π(h−14)/24) of the local hour h (Start's location):
// with Diurnal 0.5, 1.5× the mean at 14:00 and 0.5× at 02:00; Saturdays and
// Sundays are 0.7×; each block varies by ±5%. Per-flow volume follows
// 0.6 + 0.4×activity. Long-lived connections (SSH sessions, database pools,
// tunnels, streams) carry across blocks: a new flow becomes long-lived with
// the probability that keeps Persist (25%) of each block's rows continuing
// a flow of the previous block; each goes on with probability 0.9 per block
// (50 minutes on average) with its counters rescaled by the volume curve
// and a lognormal jitter. The first block starts in that steady state.
//
// Each block also gets a few hundred non-IP frames (ARP, LLDP) and, once
// in fifty blocks, a parse error.
package gen
