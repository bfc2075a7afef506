package capture

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// writeTestPcap writes a pcap of n packets whose first byte is tag, at
// timestamps ts0, ts0+1s, ...
func writeTestPcap(t *testing.T, path string, link LinkType, tag byte, n int, ts0 int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := NewPcapWriter(f, link, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if err := w.WritePacket(ts0+int64(i)*1e9, []byte{tag, byte(i), 0, 0}, 60); err != nil {
			t.Fatal(err)
		}
	}
}

func TestChainContinuesFilesAndNamesInterfaces(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.pcap")
	b := filepath.Join(dir, "b.pcap")
	c := filepath.Join(dir, "c.pcap")
	writeTestPcap(t, a, LinkEthernet, 'a', 3, 1e9)
	writeTestPcap(t, b, LinkRaw, 'b', 2, 10e9)
	writeTestPcap(t, c, LinkEthernet, 'c', 2, 20e9)
	chain := NewChain([]ChainItem{
		{Path: a, DefaultName: "eth0"},
		{Path: filepath.Join(dir, "missing.pcap"), DefaultName: "x"},
		{Path: b, DefaultName: "eth0"}, // same name: same interface, other link type
		{Path: c, DefaultName: "c", Name: "wan"},
	})
	defer chain.Close()
	type got struct {
		tag   byte
		iface int
		link  LinkType
	}
	var pkts []got
	for {
		data, info, err := chain.NextPacket()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("NextPacket: %v", err)
		}
		pkts = append(pkts, got{data[0], info.Iface, info.Link})
	}
	want := []got{
		{'a', 0, LinkEthernet}, {'a', 0, LinkEthernet}, {'a', 0, LinkEthernet},
		{'b', 0, LinkRaw}, {'b', 0, LinkRaw},
		{'c', 1, LinkEthernet}, {'c', 1, LinkEthernet},
	}
	if len(pkts) != len(want) {
		t.Fatalf("got %d packets %v, want %v", len(pkts), pkts, want)
	}
	for i := range want {
		if pkts[i] != want[i] {
			t.Errorf("packet %d: got %+v, want %+v", i, pkts[i], want[i])
		}
	}
	ifs := chain.Interfaces()
	if len(ifs) != 2 || ifs[0].Name != "eth0" || ifs[1].Name != "wan" {
		t.Errorf("interfaces = %+v, want eth0 and wan", ifs)
	}
	errs := chain.Errors()
	if len(errs) != 1 || !errors.Is(errs[0], os.ErrNotExist) {
		t.Errorf("errors = %v, want one not-exist error for missing.pcap", errs)
	}
}

func TestChainKeepsGoodRecordsOfDamagedFile(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.pcap")
	b := filepath.Join(dir, "b.pcap")
	writeTestPcap(t, a, LinkEthernet, 'a', 3, 1e9)
	writeTestPcap(t, b, LinkEthernet, 'b', 2, 10e9)
	raw, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(a, raw[:len(raw)-2], 0o600); err != nil { // cut the last record
		t.Fatal(err)
	}
	chain := NewChain([]ChainItem{{Path: a, DefaultName: "x"}, {Path: b, DefaultName: "x"}})
	defer chain.Close()
	var tags []byte
	for {
		data, _, err := chain.NextPacket()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("NextPacket: %v", err)
			}
			break
		}
		tags = append(tags, data[0])
	}
	if string(tags) != "aabb" {
		t.Errorf("packets %q, want the 2 good records of a then b's 2", tags)
	}
	errs := chain.Errors()
	var fe *FileError
	if len(errs) != 1 || !errors.Is(errs[0], ErrTruncated) || !errors.As(errs[0], &fe) || fe.Record != 3 {
		t.Fatalf("errors = %v, want ErrTruncated at record 3", errs)
	}
}
