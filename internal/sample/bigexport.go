package sample

import (
	"compress/gzip"
	"context"
	"fmt"
	"path"
	"strconv"
)

// LargeExport describes a full export to generate with WriteLargeExport.
type LargeExport struct {
	// Table is TableMessages (the default) or TableRooms.
	Table string
	// Size is the target size of the data, uncompressed, in bytes: items
	// are written until it is reached (the last item crosses it).
	Size int64
	// FileSize is the uncompressed size at which a data file is closed
	// and the next one begun. Default 128 MiB.
	FileSize int64
	// Level is the gzip level of the data files. Default gzip.BestSpeed.
	Level int
	// Progress, when set, is called with the uncompressed bytes written so
	// far, about every MiB and once at the end.
	Progress func(written int64)
}

// ExportResult describes a written export.
type ExportResult struct {
	// Dir is the export's directory, <dir>/AWSDynamoDB/<ExportID>.
	Dir      string
	ExportID string
	// Items and Bytes count the data lines and their uncompressed size.
	Items int64
	Bytes int64
	// Files is the number of data files.
	Files int
}

// MaxLargeExportBytes bounds LargeExport.Size (1 TiB).
const MaxLargeExportBytes = 1 << 40

// progressStep is how often Progress is called, in uncompressed bytes.
const progressStep = 1 << 20

// WriteLargeExport writes a full export (DYNAMODB_JSON) of one table under
// dir, as DynamoDB lays it out in a bucket whose root is dir:
// AWSDynamoDB/<id>/{_started, manifest-summary.json, manifest-files.json,
// data/*.json.gz}. The export time is the configured Start; items are
// made one at a time and streamed to gzip, so memory stays flat whatever
// the size. Items are realistic but not the result of a history: message
// keys are unique, and so are room keys. It returns ErrBadSize for a Size
// out of 1..MaxLargeExportBytes, ErrBadConfig for an unknown table, and
// the context's error when cancelled (leaving a partial export without
// manifests).
func (g *Generator) WriteLargeExport(ctx context.Context, dir string, spec LargeExport) (ExportResult, error) {
	if spec.Table == "" {
		spec.Table = TableMessages
	}
	if spec.Table != TableMessages && spec.Table != TableRooms {
		return ExportResult{}, fmt.Errorf("%w: unknown table %q", ErrBadConfig, spec.Table)
	}
	if spec.Size < 1 || spec.Size > MaxLargeExportBytes {
		return ExportResult{}, fmt.Errorf("%w: export of %d bytes", ErrBadSize, spec.Size)
	}
	if spec.FileSize <= 0 {
		spec.FileSize = 128 << 20
	}
	if spec.Level == 0 {
		spec.Level = gzip.BestSpeed
	}
	if spec.Level < gzip.HuffmanOnly || spec.Level > gzip.BestCompression {
		return ExportResult{}, fmt.Errorf("%w: gzip level %d", ErrBadConfig, spec.Level)
	}

	r := newRnd(g.cfg.Seed, streamLargeExport)
	t := g.cfg.Start.UnixMicro()
	startMicros := t + r.between(second, 5*second)
	id := exportID(r, startMicros)
	e, err := newExportWriter(dirSink{root: dir}, ".", id, spec.Level, spec.FileSize, r)
	if err != nil {
		return ExportResult{}, err
	}
	items := newItemSource(r, spec.Table, t)
	var line []byte
	var billed int64
	nextProgress := int64(progressStep)
	for e.raw < spec.Size {
		if e.items%1024 == 0 {
			if err := ctx.Err(); err != nil {
				e.closeFile()
				return ExportResult{}, err
			}
		}
		it := items.next()
		billed += int64(itemSize(it)) + 100
		line = appendExportItem(line[:0], it)
		if err := e.writeLine(line); err != nil {
			e.closeFile()
			return ExportResult{}, err
		}
		if spec.Progress != nil && e.raw >= nextProgress {
			spec.Progress(e.raw)
			nextProgress = e.raw + progressStep
		}
	}
	s := manifestSummary{
		Version:         fullExportVersion,
		ExportArn:       tableARN(spec.Table) + "/export/" + id,
		StartTime:       isoMillis(startMicros),
		EndTime:         isoMillis(startMicros + r.between(10*minute, 40*minute)),
		TableArn:        tableARN(spec.Table),
		TableID:         uuid(r.hex(32)),
		ExportTime:      isoMillis(t),
		BilledSizeBytes: billed,
	}
	if err := e.finish(s); err != nil {
		return ExportResult{}, err
	}
	if spec.Progress != nil {
		spec.Progress(e.raw)
	}
	return ExportResult{
		Dir:      path.Join(dir, "AWSDynamoDB", id),
		ExportID: id,
		Items:    e.items,
		Bytes:    e.raw,
		Files:    len(e.entries),
	}, nil
}

// itemSource makes export items one at a time from fixed pools of users
// and rooms.
type itemSource struct {
	r      rnd
	table  string
	t      int64 // export time, Unix microseconds
	users  []*user
	rooms  []*room
	system *user
	n      int64
}

func newItemSource(r rnd, table string, t int64) *itemSource {
	s := &itemSource{r: r, table: table, t: t, system: newSystemUser()}
	s.users = make([]*user, 2048)
	for i := range s.users {
		s.users[i] = newUser(r)
	}
	s.rooms = make([]*room, 4096)
	for i := range s.rooms {
		s.rooms[i] = s.newRoom()
	}
	return s
}

func (s *itemSource) newRoom() *room {
	seller := s.users[s.r.IntN(len(s.users))]
	buyer := s.users[s.r.IntN(len(s.users))]
	for buyer == seller {
		buyer = s.users[s.r.IntN(len(s.users))]
	}
	return newRoom(s.r, seller, buyer)
}

// next returns the next item: a message in a random room as it stands
// after some reads, reactions and edits, or a room with a unique key.
func (s *itemSource) next() item {
	s.n++
	r := s.r
	createdMs := (s.t - r.between(minute, 30*day)) / 1000
	if s.table == TableRooms {
		rm := s.newRoom()
		rm.articleID = 100000000 + s.n
		rm.id = "chat-" + strconv.FormatInt(rm.articleID, 10) + "-" + rm.buyer.id
		it := roomItem(rm, createdMs)
		last := createdMs + r.between(0, (s.t/1000-createdMs)+1)
		it = it.with("lastMessageAt", vInt(last))
		it = it.with("status", vS([]string{statusActive, statusReserved, statusCompleted}[r.IntN(3)]))
		uc, _ := it.get("unreadCount")
		it = it.with("unreadCount", mapInc(uc, rm.buyer.id, r.between(0, 4)))
		if r.chance(0.3) {
			p := vNS(offerPrice(r, rm.art))
			if r.chance(0.4) {
				p = withSetMember(p, kindNS, offerPrice(r, rm.art))
			}
			it = it.with("prices", p)
		}
		return it
	}
	rm := s.rooms[r.IntN(len(s.rooms))]
	from := rm.buyer
	if r.chance(0.5) {
		from = rm.seller
	}
	k := kindChat
	switch x := r.Float64(); {
	case x < 0.04:
		k, from = kindSystem, s.system
	case x < 0.14:
		k = kindImage
	case x < 0.22:
		k = kindSticker
	case x < 0.30:
		k = kindOffer
	case x < 0.32:
		k = kindLong
	}
	it := messageItem(r, rm, from, createdMs, k, createdMs/1000+ttlLong)
	if r.chance(0.7) {
		rb, _ := it.get("readBy")
		it = it.with("readBy", withSetMember(rb, kindSS, rm.other(from).id))
	}
	if r.chance(0.1) {
		rv := mapInc(vM(), r.pick(reactionEmoji), 1+r.Int64N(2))
		if r.chance(0.3) {
			rv = mapInc(rv, r.pick(reactionEmoji), 1)
		}
		it = it.with("reactions", rv)
	}
	if k == kindChat && r.chance(0.05) {
		body, _ := it.get("body")
		it = it.with("body", vS(body.s+" (수정됨) ✏️")).with("editedAt", vInt(createdMs+r.between(5000, 300000)))
	}
	return it
}
