package capture

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// bpfLabel names a position in a program being assembled by bpfAsm.
// bpfNext is the instruction right after a jump (a skip of 0).
type bpfLabel int

const bpfNext bpfLabel = -1

// bpfJump is a jump whose skip counts wait for its labels to be placed.
type bpfJump struct {
	at              int // index of the jump instruction
	target          bpfLabel
	onTrue, onFalse bpfLabel
	cond            bpf.JumpTest
	val             uint32
	uncond          bool
}

// bpfAsm assembles a classic BPF program with symbolic forward labels, so
// the filters can be written as readable blocks instead of hand-counted
// skips. Classic BPF only jumps forward; a conditional jump reaches at
// most 255 instructions, which program checks.
type bpfAsm struct {
	ins    []bpf.Instruction
	jumps  []bpfJump
	labels []int // label -> instruction index, -1 until placed
}

// label returns a new, unplaced label.
func (a *bpfAsm) label() bpfLabel {
	a.labels = append(a.labels, -1)
	return bpfLabel(len(a.labels) - 1)
}

// place puts l at the next instruction.
func (a *bpfAsm) place(l bpfLabel) { a.labels[l] = len(a.ins) }

// emit appends plain instructions.
func (a *bpfAsm) emit(ins ...bpf.Instruction) { a.ins = append(a.ins, ins...) }

// jumpIf appends "if A <cond> val goto t else goto f".
func (a *bpfAsm) jumpIf(cond bpf.JumpTest, val uint32, t, f bpfLabel) {
	a.jumps = append(a.jumps, bpfJump{at: len(a.ins), cond: cond, val: val, onTrue: t, onFalse: f})
	a.ins = append(a.ins, nil)
}

// jump appends an unconditional jump to l.
func (a *bpfAsm) jump(l bpfLabel) {
	a.jumps = append(a.jumps, bpfJump{at: len(a.ins), target: l, uncond: true})
	a.ins = append(a.ins, nil)
}

// skip returns the skip count from the jump at index at to label l.
func (a *bpfAsm) skip(at int, l bpfLabel, limit int) (int, error) {
	if l == bpfNext {
		return 0, nil
	}
	to := a.labels[l]
	switch {
	case to < 0:
		return 0, fmt.Errorf("capture: bpf: label %d never placed", l)
	case to <= at:
		return 0, fmt.Errorf("capture: bpf: backward jump from %d to %d", at, to)
	case to-at-1 > limit:
		return 0, fmt.Errorf("capture: bpf: jump from %d to %d exceeds %d instructions", at, to, limit)
	}
	return to - at - 1, nil
}

// program resolves the jumps and returns the instructions.
func (a *bpfAsm) program() ([]bpf.Instruction, error) {
	for _, j := range a.jumps {
		if j.uncond {
			n, err := a.skip(j.at, j.target, 1<<31-1)
			if err != nil {
				return nil, err
			}
			a.ins[j.at] = bpf.Jump{Skip: uint32(n)}
			continue
		}
		t, err := a.skip(j.at, j.onTrue, 255)
		if err != nil {
			return nil, err
		}
		f, err := a.skip(j.at, j.onFalse, 255)
		if err != nil {
			return nil, err
		}
		a.ins[j.at] = bpf.JumpIf{Cond: j.cond, Val: j.val, SkipTrue: uint8(t), SkipFalse: uint8(f)}
	}
	if len(a.ins) == 0 || len(a.ins) > bpfMaxInstructions {
		return nil, fmt.Errorf("capture: bpf: program of %d instructions, want 1..%d", len(a.ins), bpfMaxInstructions)
	}
	return a.ins, nil
}
