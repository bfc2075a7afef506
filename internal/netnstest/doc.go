// Package netnstest gives live network tests throw-away network
// namespaces: Require skips a test that cannot make them, New creates one
// (loopback up, chosen sysctls set), NewVeth joins two with a veth pair,
// and NS.Do runs Go code inside one on a locked OS thread switched with
// setns(2). Every namespace is deleted by t.Cleanup, also when the test
// fails, so only traffic inside these namespaces is ever sent and nothing
// is left behind on the host.
//
// The package only builds on Linux and needs root (CAP_SYS_ADMIN,
// CAP_NET_ADMIN, CAP_NET_RAW) and ip from iproute2 at run time. It is for
// tests only: its helpers report failures through testing.TB.
package netnstest
