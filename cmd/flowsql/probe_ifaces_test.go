package main

import (
	"net"
	"reflect"
	"testing"
)

func TestWantedIfaces(t *testing.T) {
	sys := []net.Interface{
		{Index: 1, Name: "lo", Flags: net.FlagUp | net.FlagLoopback},
		{Index: 2, Name: "eth0", Flags: net.FlagUp},
		{Index: 3, Name: "eth1"}, // down
		{Index: 4, Name: "docker0", Flags: net.FlagUp},
		{Index: 5, Name: "veth12ab", Flags: net.FlagUp},
		{Index: 6, Name: "wg0", Flags: net.FlagUp},
	}
	for _, tc := range []struct {
		ifaces, exclude []string
		want            []string
		index           []int
	}{
		{[]string{"any"}, nil, []string{"docker0", "eth0", "veth12ab", "wg0"}, []int{4, 2, 5, 6}},
		{[]string{"any"}, []string{"docker0", "veth*"}, []string{"eth0", "wg0"}, []int{2, 6}},
		{[]string{"eth1", "eth0", "missing"}, nil, []string{"eth0", "eth1"}, []int{2, 3}}, // down ones too, when named
		{[]string{"eth*"}, []string{"eth1"}, []string{"eth0"}, []int{2}},
		{[]string{"lo"}, nil, []string{"lo"}, []int{1}}, // loopback when named
	} {
		cfg := &probeConfig{Interfaces: tc.ifaces, Exclude: tc.exclude}
		if err := checkIfacePatterns(cfg); err != nil {
			t.Fatal(err)
		}
		got := wantedIfaces(cfg, sys)
		if names := ifaceNames(got); !reflect.DeepEqual(names, tc.want) {
			t.Errorf("%v -x %v: %v, want %v", tc.ifaces, tc.exclude, names, tc.want)
			continue
		}
		for i, r := range got {
			if r.Index != tc.index[i] {
				t.Errorf("%s: index %d, want %d", r.Name, r.Index, tc.index[i])
			}
		}
	}
}

func TestCheckIfacePatterns(t *testing.T) {
	for _, cfg := range []probeConfig{
		{},
		{Interfaces: []string{"any", "eth0"}},
		{Interfaces: []string{"eth[0"}},
		{Interfaces: []string{"eth0"}, Exclude: []string{"[x"}},
	} {
		if err := checkIfacePatterns(&cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}
