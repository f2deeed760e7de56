package spool

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Finding is one result of Verify.
type Finding struct {
	Segment string // file name (relative to the spool directory)
	Offset  int64
	Damage  bool // false: a torn tail of an unsealed segment, or a note
	Reason  string
}

func (f Finding) String() string {
	kind := "damage"
	if !f.Damage {
		kind = "note"
	}
	return fmt.Sprintf("%s offset %d: %s: %s", f.Segment, f.Offset, kind, f.Reason)
}

// VerifyReport is what Verify found.
type VerifyReport struct {
	Segments    int // segments checked
	Sealed      int
	Open        int // unsealed
	Records     uint64
	Quarantined int // files in quarantine/ (already in the loss ledger)
	Findings    []Finding
}

// Damaged reports whether any finding is damage.
func (r *VerifyReport) Damaged() bool {
	for _, f := range r.Findings {
		if f.Damage {
			return true
		}
	}
	return false
}

// Verify checks a spool directory without modifying it, under a shared lock
// (it fails with ErrLocked while a writer has the directory open): every
// record's CRC, every sealed footer against the records and the whole-segment
// checksum, the headers, and the loss ledger's entries. A torn tail on an
// unsealed segment is reported but is not damage. The error is for I/O and
// locking failures only; damage is in the report.
func Verify(dir string) (*VerifyReport, error) {
	lk, err := lockDir(dir, false)
	if err != nil {
		return nil, err
	}
	defer lk.Close()
	rep := &VerifyReport{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list spool directory: %w", err)
	}
	var names []string
	for _, de := range ents {
		if n := de.Name(); strings.HasSuffix(n, segExt) {
			names = append(names, n)
		} else if strings.HasSuffix(n, segExt+tmpExt) {
			rep.Findings = append(rep.Findings, Finding{Segment: n, Reason: "unfinished new segment (removed by the next writer)"})
		}
	}
	sort.Strings(names)
	for _, n := range names {
		if err := verifySegment(dir, n, rep); err != nil {
			return nil, err
		}
	}
	if qs, err := os.ReadDir(filepath.Join(dir, quarantineDir)); err == nil {
		rep.Quarantined = len(qs)
	}
	if _, err := ReadLedger(dir); err != nil {
		var ce *CorruptError
		if !errors.As(err, &ce) {
			return nil, err
		}
		rep.Findings = append(rep.Findings, Finding{Segment: ledgerName, Offset: ce.Offset, Damage: true, Reason: ce.Reason})
	}
	return rep, nil
}

func verifySegment(dir, name string, rep *VerifyReport) error {
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return fmt.Errorf("open segment: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat segment: %w", err)
	}
	rep.Segments++
	res, err := scanSegment(f, st.Size(), name, nil)
	if err != nil {
		return err
	}
	if res.headerErr != nil {
		var ce *CorruptError
		if errors.As(res.headerErr, &ce) {
			rep.Findings = append(rep.Findings, Finding{Segment: name, Offset: ce.Offset, Damage: true, Reason: ce.Reason})
		}
		return nil
	}
	if id, err := ParseSegmentID(name); err != nil || id != res.header.ID {
		rep.Findings = append(rep.Findings, Finding{Segment: name, Damage: true,
			Reason: fmt.Sprintf("header names segment %s", res.header.ID)})
	}
	rep.Records += res.records
	if res.sealed {
		rep.Sealed++
	} else {
		rep.Open++
	}
	if res.bad != nil {
		fd := Finding{Segment: name, Offset: res.bad.Offset, Damage: res.corrupt, Reason: res.bad.Reason}
		if !res.corrupt {
			fd.Reason = fmt.Sprintf("torn tail of %d bytes (%d whole records after the damage): %s",
				st.Size()-res.bad.Offset, res.cutFrames, res.bad.Reason)
		}
		rep.Findings = append(rep.Findings, fd)
	}
	return nil
}
