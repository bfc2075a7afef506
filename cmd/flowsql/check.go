package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/flowsql/flowsql/columnar"
	"github.com/spf13/cobra"
)

func (a *app) checkCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Verify every index entry and chunk of the store; exit 1 on damage",
		Long: `Opens the store (which cuts away data a crash left uncommitted) and
verifies that every index entry points at data that exists, has the right
checksum and decodes, that row counts and statistics agree, and that block
times of each interface do not overlap. Prints each problem and exits 1 if
there is any.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.check(cmd.Context())
		},
	}
}

func (a *app) check(ctx context.Context) error {
	db, err := columnar.Open(ctx, a.db, nil)
	if errors.Is(err, columnar.ErrLocked) {
		// A probe or an ingest is writing: check what is committed without
		// taking the store from it (appends in flight are not damage).
		fmt.Fprintf(a.stdout, "check: %v; checking read-only\n", err)
		db, err = columnar.Open(ctx, a.db, &columnar.Options{ReadOnly: true})
	}
	if err != nil {
		return err
	}
	defer db.Close()
	a.reportRecovery(db)
	problems := db.Check(ctx)
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintf(a.stdout, "damage: %v\n", p)
	}
	sums, err := db.Summary(ctx)
	if err != nil {
		return err
	}
	blocks := 0
	for _, s := range sums {
		blocks += s.Blocks
	}
	if len(problems) > 0 {
		fmt.Fprintf(a.stdout, "check: %d problems in %s (%d blocks, %d interfaces)\n", len(problems), a.db, blocks, len(sums))
		return errReported
	}
	fmt.Fprintf(a.stdout, "check: ok, %d blocks in %d interfaces\n", blocks, len(sums))
	return nil
}
