package spool

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// The loss ledger is an append-only file, "ledger" in the spool directory,
// of CRC-framed entries, each fsynced before the loss it records happens
// (or, when the disk is full, right after the space was freed).
//
// Entry frame: body length u32, CRC-32C(length ‖ body) u32, body:
//
//	version u8 (=1), reason u8, reserved u16, node u32, channel u32, seq u64,
//	at i64, bytes i64, records u64, payloads u64, first i64, last i64,
//	detail length u16, detail bytes.
const (
	ledgerName       = "ledger"
	ledgerEntryFixed = 70
	ledgerMaxDetail  = 1024
)

// LossReason says why data left the spool.
type LossReason uint8

// Loss reasons.
const (
	LossBudget  LossReason = iota + 1 // evicted: the byte budget was reached
	LossAge                           // evicted: older than the maximum age
	LossNoSpace                       // evicted: the disk was full (ENOSPC)
	LossCorrupt                       // quarantined: corruption found
	LossLedger                        // the ledger itself was damaged and rebuilt
	LossTorn                          // a torn tail was cut that held whole records after the damage
)

func (r LossReason) String() string {
	switch r {
	case LossBudget:
		return "budget"
	case LossAge:
		return "age"
	case LossNoSpace:
		return "nospace"
	case LossCorrupt:
		return "corrupt"
	case LossLedger:
		return "ledger"
	case LossTorn:
		return "torn"
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}

// LossEntry is one loss ledger entry.
type LossEntry struct {
	At       time.Time // when the loss was recorded
	Reason   LossReason
	Segment  SegmentID
	Bytes    int64
	Records  uint64
	Payloads uint64
	First    time.Time // payload time range of the lost records
	Last     time.Time
	Detail   string // e.g. where corruption was found
}

func encodeLossEntry(e *LossEntry) []byte {
	d := e.Detail
	if len(d) > ledgerMaxDetail {
		d = d[:ledgerMaxDetail]
	}
	b := make([]byte, 8+ledgerEntryFixed+len(d))
	body := b[8:]
	body[0] = 1
	body[1] = byte(e.Reason)
	le.PutUint32(body[4:], e.Segment.Node)
	le.PutUint32(body[8:], e.Segment.Channel)
	le.PutUint64(body[12:], e.Segment.Seq)
	le.PutUint64(body[20:], uint64(toNS(e.At)))
	le.PutUint64(body[28:], uint64(e.Bytes))
	le.PutUint64(body[36:], e.Records)
	le.PutUint64(body[44:], e.Payloads)
	le.PutUint64(body[52:], uint64(toNS(e.First)))
	le.PutUint64(body[60:], uint64(toNS(e.Last)))
	le.PutUint16(body[68:], uint16(len(d)))
	copy(body[70:], d)
	le.PutUint32(b, uint32(len(body)))
	le.PutUint32(b[4:], crc32.Update(crc32.Checksum(b[:4], castagnoli), castagnoli, body))
	return b
}

// ParseLossEntry parses one ledger entry frame from the start of b and
// returns it and the frame's size.
func ParseLossEntry(b []byte) (LossEntry, int, error) {
	var e LossEntry
	if len(b) < 8 {
		return e, 0, fmt.Errorf("parse ledger entry: %w", ErrShort)
	}
	l := int(le.Uint32(b))
	if l < ledgerEntryFixed || l > ledgerEntryFixed+ledgerMaxDetail {
		return e, 0, fmt.Errorf("parse ledger entry: length %d: %w", l, ErrCorrupt)
	}
	if len(b) < 8+l {
		return e, 0, fmt.Errorf("parse ledger entry: %w", ErrShort)
	}
	body := b[8 : 8+l]
	if crc32.Update(crc32.Checksum(b[:4], castagnoli), castagnoli, body) != le.Uint32(b[4:]) {
		return e, 0, fmt.Errorf("parse ledger entry: checksum mismatch: %w", ErrCorrupt)
	}
	if body[0] != 1 {
		return e, 0, fmt.Errorf("parse ledger entry: version %d: %w", body[0], ErrCorrupt)
	}
	e.Reason = LossReason(body[1])
	e.Segment = SegmentID{Node: le.Uint32(body[4:]), Channel: le.Uint32(body[8:]), Seq: le.Uint64(body[12:])}
	e.At = fromNS(int64(le.Uint64(body[20:])))
	e.Bytes = int64(le.Uint64(body[28:]))
	e.Records = le.Uint64(body[36:])
	e.Payloads = le.Uint64(body[44:])
	e.First = fromNS(int64(le.Uint64(body[52:])))
	e.Last = fromNS(int64(le.Uint64(body[60:])))
	dl := int(le.Uint16(body[68:]))
	if ledgerEntryFixed+dl != l {
		return e, 0, fmt.Errorf("parse ledger entry: detail length %d: %w", dl, ErrCorrupt)
	}
	e.Detail = string(body[70:])
	return e, 8 + l, nil
}

// parseLedger parses a whole ledger file. It returns the valid entries, the
// length of the valid prefix, and whether the damage after it is a torn
// tail (no valid entry follows) or corruption.
func parseLedger(b []byte) (entries []LossEntry, end int, corrupt bool) {
	off := 0
	for off < len(b) {
		e, n, err := ParseLossEntry(b[off:])
		if err != nil {
			for i := off + 1; i+8 <= len(b); i++ {
				if e2, n2, err := ParseLossEntry(b[i:]); err == nil {
					// corruption: keep what can be read after it too
					for j := i; ; {
						entries = append(entries, e2)
						j += n2
						if e2, n2, err = ParseLossEntry(b[j:]); err != nil {
							break
						}
					}
					return entries, off, true
				}
			}
			return entries, off, false
		}
		entries = append(entries, e)
		off += n
	}
	return entries, off, false
}

// ledger appends entries to the loss ledger file.
type ledger struct {
	mu   sync.Mutex // held across ledger file I/O; see LOCKS.md
	path string
	f    *os.File
	size int64
}

// openLedger opens (creating) the ledger of dir, truncating a torn tail. A
// ledger damaged in the middle is moved to quarantine/ and rewritten from
// its readable entries plus one LossLedger entry saying so.
func openLedger(dir string) (*ledger, []LossEntry, error) {
	path := filepath.Join(dir, ledgerName)
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("read ledger: %w", err)
	}
	entries, end, corrupt := parseLedger(b)
	if corrupt {
		q := filepath.Join(dir, quarantineDir, fmt.Sprintf("ledger-%d", time.Now().UnixNano()))
		if err := os.Rename(path, q); err != nil {
			return nil, nil, fmt.Errorf("quarantine ledger: %w", err)
		}
		entries = append(entries, LossEntry{At: time.Now(), Reason: LossLedger,
			Detail: fmt.Sprintf("ledger damaged at offset %d, moved to %s", end, filepath.Base(q))})
		var nb []byte
		for i := range entries {
			nb = append(nb, encodeLossEntry(&entries[i])...)
		}
		if err := writeFileSync(path, nb); err != nil {
			return nil, nil, fmt.Errorf("rewrite ledger: %w", err)
		}
		if err := syncDir(filepath.Join(dir, quarantineDir)); err != nil {
			return nil, nil, err
		}
		b, end = nb, len(nb)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("open ledger: %w", err)
	}
	if end != len(b) {
		if err := f.Truncate(int64(end)); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("truncate ledger: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("sync ledger: %w", err)
		}
	}
	if err := syncDir(dir); err != nil {
		f.Close()
		return nil, nil, err
	}
	return &ledger{path: path, f: f, size: int64(end)}, entries, nil
}

// append writes and fsyncs one entry. On failure the file is cut back to
// its previous length so a later append starts on a frame boundary.
func (l *ledger) append(e *LossEntry) error {
	b := encodeLossEntry(e)
	l.mu.Lock()
	defer l.mu.Unlock()
	_, err := l.f.WriteAt(b, l.size)
	if err == nil {
		err = syscall.Fdatasync(int(l.f.Fd()))
	}
	if err != nil {
		if terr := l.f.Truncate(l.size); terr != nil {
			return fmt.Errorf("append ledger: %w (and truncate: %v)", err, terr)
		}
		return fmt.Errorf("append ledger: %w", err)
	}
	l.size += int64(len(b))
	return nil
}

func (l *ledger) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}

// ReadLedger returns the entries of the loss ledger of a spool directory.
// It reads without locking: entries are appended whole and fsynced, and a
// torn last entry is not returned.
func ReadLedger(dir string) ([]LossEntry, error) {
	f, err := os.Open(filepath.Join(dir, ledgerName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open ledger: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read ledger: %w", err)
	}
	entries, end, corrupt := parseLedger(b)
	if corrupt {
		return entries, &CorruptError{Segment: ledgerName, Offset: int64(end), Reason: "ledger entry damaged"}
	}
	return entries, nil
}

// writeFileSync writes path through a temporary file, fsyncs and renames it.
func writeFileSync(path string, b []byte) error {
	tmp := path + tmpExt
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// syncDir fsyncs a directory so renames and unlinks in it are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", filepath.Base(dir), err)
	}
	return nil
}
