package spool

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// catalog is what readers need from the owner of the directory: the live
// Spool (durable lengths from the writer) or an offline Reader (lengths from
// a read-only walk).
type catalog interface {
	dirPath() string
	segmentList() []SegmentInfo // sorted by id, quarantined excluded
	durable(id SegmentID) (int64, State, error)
	damage(id SegmentID) error // offline: corruption after the readable prefix
}

func (s *Spool) dirPath() string { return s.dir }

func (s *Spool) segmentList() []SegmentInfo {
	s.mu.Lock()
	out := make([]SegmentInfo, 0, len(s.segs))
	for _, g := range s.segs {
		out = append(out, g.info())
	}
	s.mu.Unlock()
	sortInfos(out)
	return out
}

func (s *Spool) durable(id SegmentID) (int64, State, error) { return s.DurableOffset(id) }

func (s *Spool) damage(SegmentID) error { return nil }

func sortInfos(l []SegmentInfo) {
	sort.Slice(l, func(i, j int) bool { return l[i].ID.less(l[j].ID) })
}

// Segments lists every segment with its state, durable size, record counts
// and time range, quarantined ones included, sorted by id.
func (s *Spool) Segments() ([]SegmentInfo, error) {
	return withQuarantined(s.dir, s.segmentList())
}

// Records iterates channel ch's durable records whose time range overlaps
// [from, to) (a zero bound is open) while the writer appends.
func (s *Spool) Records(ch uint32, from, to time.Time) *Iter {
	return &Iter{cat: s, ch: ch, from: from, to: to}
}

// OpenSegment opens segment id for reading by byte offset up to its durable
// length, also while it is open.
func (s *Spool) OpenSegment(id SegmentID) (*SegmentReader, error) { return openSegment(s, id) }

// Losses returns the loss ledger's entries.
func (s *Spool) Losses() ([]LossEntry, error) { return ReadLedger(s.dir) }

// Reader reads a spool directory that no writer has open. It holds a shared
// lock (excluding a writer) until Close, and never modifies the directory:
// an unsealed segment is readable up to its last valid record.
type Reader struct {
	dir  string
	lock *os.File
	segs map[SegmentID]*offline
}

type offline struct {
	info   SegmentInfo
	damage error
}

// OpenReader opens dir for offline reading.
func OpenReader(dir string) (*Reader, error) {
	lk, err := lockDir(dir, false)
	if err != nil {
		return nil, err
	}
	r := &Reader{dir: dir, lock: lk, segs: map[SegmentID]*offline{}}
	ents, err := os.ReadDir(dir)
	if err != nil {
		lk.Close()
		return nil, fmt.Errorf("list spool directory: %w", err)
	}
	for _, de := range ents {
		id, err := ParseSegmentID(de.Name())
		if err != nil || !strings.HasSuffix(de.Name(), segExt) {
			continue
		}
		o, err := loadOffline(filepath.Join(dir, de.Name()), id)
		if err != nil {
			lk.Close()
			return nil, err
		}
		r.segs[id] = o
	}
	return r, nil
}

func loadOffline(path string, id SegmentID) (*offline, error) {
	info, ok, err := sealedInfo(path, id)
	if err != nil {
		return nil, err
	}
	if ok {
		return &offline{info: info}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open segment: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat segment: %w", err)
	}
	res, err := scanSegment(f, st.Size(), filepath.Base(path), nil)
	if err != nil {
		return nil, err
	}
	o := &offline{info: infoFromScan(&res, StateOpen), damage: res.damage()}
	o.info.ID = id
	if res.headerErr != nil {
		o.info.Bytes = 0
	}
	return o, nil
}

// Close releases the shared lock.
func (r *Reader) Close() error { return r.lock.Close() }

func (r *Reader) dirPath() string { return r.dir }

func (r *Reader) segmentList() []SegmentInfo {
	out := make([]SegmentInfo, 0, len(r.segs))
	for _, o := range r.segs {
		out = append(out, o.info)
	}
	sortInfos(out)
	return out
}

func (r *Reader) durable(id SegmentID) (int64, State, error) {
	o := r.segs[id]
	if o == nil {
		return 0, 0, fmt.Errorf("segment %s: %w", id, ErrNotFound)
	}
	return o.info.Bytes, o.info.State, nil
}

func (r *Reader) damage(id SegmentID) error {
	if o := r.segs[id]; o != nil {
		return o.damage
	}
	return nil
}

// Segments lists every segment, as Spool.Segments does.
func (r *Reader) Segments() ([]SegmentInfo, error) { return withQuarantined(r.dir, r.segmentList()) }

// Records iterates channel ch's records overlapping [from, to).
func (r *Reader) Records(ch uint32, from, to time.Time) *Iter {
	return &Iter{cat: r, ch: ch, from: from, to: to}
}

// OpenSegment opens segment id for reading by byte offset.
func (r *Reader) OpenSegment(id SegmentID) (*SegmentReader, error) { return openSegment(r, id) }

// Losses returns the loss ledger's entries.
func (r *Reader) Losses() ([]LossEntry, error) { return ReadLedger(r.dir) }

func withQuarantined(dir string, l []SegmentInfo) ([]SegmentInfo, error) {
	qdir := filepath.Join(dir, quarantineDir)
	ents, err := os.ReadDir(qdir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("list quarantine: %w", err)
	}
	for _, de := range ents {
		id, err := ParseSegmentID(de.Name())
		if err != nil || !strings.HasSuffix(de.Name(), segExt) {
			continue
		}
		info := SegmentInfo{ID: id, State: StateQuarantined}
		if f, err := os.Open(filepath.Join(qdir, de.Name())); err == nil {
			if st, err := f.Stat(); err == nil {
				info.Bytes = st.Size()
			}
			hb := make([]byte, headerSize)
			if _, err := f.ReadAt(hb, 0); err == nil {
				if h, err := ParseHeader(hb); err == nil {
					info.Created = h.Created
				}
			}
			f.Close()
		}
		l = append(l, info)
	}
	sortInfos(l)
	return l, nil
}

// SegmentReader reads one segment by byte offset, never past its durable
// length: replication, shipping and raw export read segments this way.
type SegmentReader struct {
	id  SegmentID
	f   *os.File
	cat catalog
}

var _ io.ReaderAt = (*SegmentReader)(nil)

func openSegment(cat catalog, id SegmentID) (*SegmentReader, error) {
	if _, _, err := cat.durable(id); err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(cat.dirPath(), id.fileName()))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("open segment %s: %w", id, ErrEvicted)
	}
	if err != nil {
		return nil, fmt.Errorf("open segment %s: %w", id, err)
	}
	return &SegmentReader{id: id, f: f, cat: cat}, nil
}

// ID returns the segment's id.
func (r *SegmentReader) ID() SegmentID { return r.id }

// Size returns the segment's durable length now and its state. A segment
// evicted while open here stays readable: its size is then the file's.
func (r *SegmentReader) Size() (int64, State, error) {
	n, st, err := r.cat.durable(r.id)
	if errors.Is(err, ErrNotFound) {
		fi, serr := r.f.Stat()
		if serr != nil {
			return 0, 0, fmt.Errorf("stat segment %s: %w", r.id, serr)
		}
		return fi.Size(), StateSealed, nil
	}
	return n, st, err
}

// ReadAt reads from the durable part of the segment; past it, io.EOF.
func (r *SegmentReader) ReadAt(p []byte, off int64) (int, error) {
	n, _, err := r.Size()
	if err != nil {
		return 0, err
	}
	if off >= n {
		return 0, io.EOF
	}
	want := p
	if int64(len(p)) > n-off {
		want = p[:n-off]
	}
	k, err := r.f.ReadAt(want, off)
	if err == nil && k < len(p) {
		err = io.EOF
	}
	return k, err
}

// Close closes the file.
func (r *SegmentReader) Close() error { return r.f.Close() }
