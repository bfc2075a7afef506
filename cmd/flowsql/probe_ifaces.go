package main

import (
	"fmt"
	"net"
	"path"
	"slices"
	"strings"

	"github.com/flowsql/flowsql/ingest"
)

// anyIface is the interface list that means every interface that is up,
// loopback excepted.
const anyIface = "any"

// checkIfacePatterns validates the interface names and exclusion patterns
// (path.Match globs) of a configuration.
func checkIfacePatterns(cfg *probeConfig) error {
	if len(cfg.Interfaces) == 0 {
		return fmt.Errorf("no interfaces: give -i NAME,... or -i any")
	}
	if slices.Contains(cfg.Interfaces, anyIface) && len(cfg.Interfaces) > 1 {
		return fmt.Errorf("interfaces: %q cannot be combined with names", anyIface)
	}
	for _, p := range append(slices.Clone(cfg.Interfaces), cfg.Exclude...) {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("interface pattern %q: %w", p, err)
		}
	}
	return nil
}

// wantedIfaces returns the interfaces to capture among the system's: with
// "any", those that are up and not loopback; else those named (or matched
// by a glob) that exist, whether up or down. Excluded names are left out
// either way. Names that do not exist yet are left out until they appear.
// The result is sorted by name.
func wantedIfaces(cfg *probeConfig, sys []net.Interface) []ingest.IfaceRef {
	var out []ingest.IfaceRef
	all := len(cfg.Interfaces) == 1 && cfg.Interfaces[0] == anyIface
	for _, ifc := range sys {
		switch {
		case matchAny(cfg.Exclude, ifc.Name):
			continue
		case all:
			if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
				continue
			}
		case !matchAny(cfg.Interfaces, ifc.Name):
			continue
		}
		out = append(out, ingest.IfaceRef{Name: ifc.Name, Index: ifc.Index})
	}
	slices.SortFunc(out, func(a, b ingest.IfaceRef) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// matchAny reports whether name matches one of the patterns.
func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// ifaceNames lists the names of refs.
func ifaceNames(refs []ingest.IfaceRef) []string {
	names := make([]string, len(refs))
	for i, r := range refs {
		names[i] = r.Name
	}
	return names
}
