package main

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseProbeConfig(t *testing.T) {
	text := `---
# the probe
interfaces: [eth0, "eth1", 'eth2']   # three
exclude:
  - docker0
  - "veth*"    # quoted glob
interval: 60s
retain: 30d
max-disk: 10GiB
metrics: "127.0.0.1:9931"
promisc: yes
fanout: 2
local: 10.0.0.0/8, 192.168.1.7
`
	c := defaultProbeConfig()
	vals, err := parseFlatYAML(text)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.apply(vals); err != nil {
		t.Fatal(err)
	}
	want := probeConfig{
		Interfaces: []string{"eth0", "eth1", "eth2"}, Exclude: []string{"docker0", "veth*"},
		Interval: time.Minute, Retain: "30d", MaxDisk: "10GiB", Metrics: "127.0.0.1:9931",
		Promisc: true, Fanout: 2, Local: "10.0.0.0/8,192.168.1.7",
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
	// Other spellings: comma lists, seconds, empty values.
	vals, err = parseFlatYAML("interfaces: any\ninterval: 300\nmetrics:\nexclude: 'a,b'\n")
	if err != nil {
		t.Fatal(err)
	}
	c = defaultProbeConfig()
	if err := c.apply(vals); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Interfaces, []string{"any"}) || c.Interval != 5*time.Minute || c.Metrics != "" ||
		!reflect.DeepEqual(c.Exclude, []string{"a", "b"}) {
		t.Errorf("got %+v", c)
	}
}

func TestParseProbeConfigErrors(t *testing.T) {
	for text, wantMsg := range map[string]string{
		"interfaces: [eth0\n":           "line 1: interfaces: unterminated list",
		"nope: 1\n":                     `line 1: unknown key "nope"`,
		"fanout: 1\nfanout: 2\n":        "line 2: fanout given twice",
		"  indented: x\n":               "line 1: unexpected indentation",
		"interval: 5m\n  - x\n":         "",
		"interfaces:\n\t- eth0\n":       "line 2: tab characters",
		"interfaces: &a eth0\n":         "anchors",
		"interfaces: {a: b}\n":          "nested",
		"retain: |\n  30d\n":            "block scalars",
		"interfaces:eth0\n":             "line 1: want",
		"justtext\n":                    "line 1: want",
		"exclude:\n  -x\n":              "line 2: unexpected indentation",
		"metrics: \"unterminated\n":     "bad double-quoted",
		"promisc: maybe\n":              "line 1: promisc",
		"fanout: many\n":                "line 1: fanout",
		"interval: soon\n":              "line 1: interval",
		"retain: [a, b]\n":              "a list where a single value",
		"- orphan\n":                    "line 1: unexpected indentation",
		"interfaces: 'it''s'\nfoo: 1\n": `line 2: unknown key "foo"`,
	} {
		vals, err := parseFlatYAML(text)
		if err == nil {
			c := defaultProbeConfig()
			err = c.apply(vals)
		}
		if err == nil {
			t.Errorf("%q: accepted", text)
			continue
		}
		if !errors.Is(err, errConfig) {
			t.Errorf("%q: error %v does not wrap errConfig", text, err)
		}
		if !strings.Contains(err.Error(), wantMsg) {
			t.Errorf("%q: error %q, want it to mention %q", text, err, wantMsg)
		}
	}
}

// Flags given on the command line win over the file; the file over the
// defaults.
func TestProbeConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(file, []byte("interfaces: eth0\ninterval: 60s\nfanout: 2\nexclude: [lo]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a := &app{}
	f := &probeFlags{cfg: defaultProbeConfig()}
	cmd := a.probeCmd(f)
	if err := cmd.ParseFlags([]string{"--config", file, "--interval", "120s", "-i", "eth1,eth2"}); err != nil {
		t.Fatal(err)
	}
	c, err := f.resolve(cmd.Flags())
	if err != nil {
		t.Fatal(err)
	}
	if c.Interval != 2*time.Minute || c.Fanout != 2 || !reflect.DeepEqual(c.Interfaces, []string{"eth1", "eth2"}) ||
		!reflect.DeepEqual(c.Exclude, []string{"lo"}) || c.Metrics != defaultMetricsAddr {
		t.Errorf("resolved %+v", c)
	}
	// Invalid values are refused with the key named.
	for _, args := range [][]string{
		{"-i", "eth0", "--interval", "1500ms"},
		{"-i", "eth0", "--fanout", "0"},
		{"-i", "eth0", "--retain", "soon"},
		{"-i", "eth0", "--max-disk", "lots"},
		{"-i", "eth0", "--metrics", "0.0.0.0:9930"},
		{"-i", "eth0", "--local", "10.0.0.0/33"},
		{"-i", "any,eth0"},
		{"-i", "eth[0"},
		{},
	} {
		f := &probeFlags{cfg: defaultProbeConfig()}
		cmd := a.probeCmd(f)
		if err := cmd.ParseFlags(args); err != nil {
			t.Fatal(err)
		}
		if _, err := f.resolve(cmd.Flags()); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}

// FuzzParseFlatYAML: the configuration parser never panics, and whatever
// it accepts parses the same after being written back in block form.
func FuzzParseFlatYAML(f *testing.F) {
	for _, seed := range []string{
		"interfaces: [eth0, eth1]\nexclude:\n  - docker0\n",
		"interval: 5m # comment\nmetrics: \"127.0.0.1:1\"\n",
		"local: 'a''b'\npromisc: on\n",
		"---\nfanout: 3\n",
		"interfaces:\n- a\n- 'b # c'\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		vals, err := parseFlatYAML(text)
		if err != nil {
			return
		}
		var b strings.Builder
		for _, k := range configKeys {
			v, ok := vals[k]
			if !ok {
				continue
			}
			if v.isList && len(v.list) == 0 {
				b.WriteString(k + ": []\n")
			} else if v.isList {
				b.WriteString(k + ":\n")
				for _, item := range v.list {
					b.WriteString("  - " + strconv.Quote(item) + "\n")
				}
			} else {
				b.WriteString(k + ": " + strconv.Quote(v.scalar) + "\n")
			}
		}
		again, err := parseFlatYAML(b.String())
		if err != nil {
			t.Fatalf("re-parse of\n%s: %v", b.String(), err)
		}
		for k, v := range vals {
			w := again[k]
			if v.isList != w.isList || v.scalar != w.scalar || !reflect.DeepEqual(v.list, w.list) {
				t.Fatalf("%s: %+v became %+v", k, v, w)
			}
		}
	})
}
