package sample

import (
	"container/heap"
	"time"
)

// Event names of stream records.
const (
	eventInsert = "INSERT"
	eventModify = "MODIFY"
	eventRemove = "REMOVE"
)

// change is one change to one item of the history. Images are shared,
// never mutated: the new image of one change is the old image of the next
// change of the same key.
type change struct {
	table   string
	event   string
	micros  int64  // when it happened, Unix microseconds UTC
	key     string // the item's key as text, unique within the table
	keys    item
	old     item // nil for INSERT
	new     item // nil for REMOVE
	ttl     bool // REMOVE made by TTL expiry
	id      string
	variant uint32 // random bits that pick encoding variants
}

// action is a scheduled step of the simulation.
type action struct {
	at int64 // Unix microseconds
	n  uint64
	fn func(at int64)
}

// actionQueue is a min-heap of actions by time, then scheduling order.
type actionQueue []action

func (q actionQueue) Len() int { return len(q) }
func (q actionQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].n < q[j].n
}
func (q actionQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *actionQueue) Push(x any)   { *q = append(*q, x.(action)) }
func (q *actionQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

const (
	second = int64(time.Second / time.Microsecond)
	minute = 60 * second
	hour   = 60 * minute
	day    = 24 * hour
)

// hiddenMsg is a message removed by moderation, to be restored later.
type hiddenMsg struct {
	rm *room
	it item
	at int64 // when it was hidden
}

// sim is a discrete-event simulation of the chat service. It calls emit
// for each change, in time order; emit returns false to stop.
type sim struct {
	r       rnd
	start   int64
	end     int64
	now     int64
	q       actionQueue
	n       uint64
	users   []*user
	system  *user
	rooms   []*room
	state   map[string]item
	emit    func(*change) bool
	stopped bool
	hidden  []hiddenMsg
	buf     []byte // scratch for comparing images
}

func newSim(r rnd, start time.Time, days, roomsPerDay int, emit func(*change) bool) *sim {
	s := &sim{
		r:      r,
		start:  start.UnixMicro(),
		end:    start.UnixMicro() + int64(days)*day,
		system: newSystemUser(),
		state:  make(map[string]item),
		emit:   emit,
	}
	s.now = s.start
	nUsers := max(6, days*roomsPerDay*3/4+4)
	s.users = make([]*user, nUsers)
	for i := range s.users {
		s.users[i] = newUser(r)
	}
	for d := range days {
		ds := s.start + int64(d)*day
		for i := range roomsPerDay {
			t := ds + r.between(0, 22*hour)
			if d == 0 && i == 0 {
				t = ds + r.between(0, 2*hour) // the history starts with a chat
			}
			s.at(t, s.newRoomOpens)
		}
		s.daily(ds)
	}
	return s
}

// run executes actions in time order until the end of the period, or
// until emit asks to stop.
func (s *sim) run() {
	for s.q.Len() > 0 && !s.stopped {
		a := heap.Pop(&s.q).(action)
		if a.at >= s.end {
			return
		}
		a.fn(a.at)
	}
}

// at schedules fn at time t.
func (s *sim) at(t int64, fn func(at int64)) {
	s.n++
	heap.Push(&s.q, action{at: t, n: s.n, fn: fn})
}

// tick returns the time of the next change: at, or just after the last
// change, so that changes are strictly ordered in time.
func (s *sim) tick(at int64) int64 {
	t := max(at, s.now+1+s.r.Int64N(3000))
	s.now = t
	return t
}

func keyText(table string, it item) string {
	k := ""
	for i, n := range keyNames(table) {
		v, _ := it.get(n)
		if i > 0 {
			k += "\x00"
		}
		k += v.s
	}
	return k
}

func (s *sim) record(c *change) {
	if s.stopped {
		return
	}
	c.id = s.r.hex(32)
	c.variant = s.r.Uint32()
	if !s.emit(c) {
		s.stopped = true
	}
}

// put writes item it to table: an INSERT, or a MODIFY of the current item.
func (s *sim) put(table string, it item, at int64) {
	key := keyText(table, it)
	old := s.state[key]
	ev := eventInsert
	if old != nil {
		ev = eventModify
		// DynamoDB writes no stream record for a write that changes nothing.
		s.buf = appendItem(s.buf[:0], old)
		n := len(s.buf)
		s.buf = appendItem(s.buf, it)
		if string(s.buf[:n]) == string(s.buf[n:]) {
			return
		}
	}
	s.state[key] = it
	s.record(&change{table: table, event: ev, micros: s.tick(at), key: key,
		keys: it.project(keyNames(table)...), old: old, new: it})
}

// del removes the item with key from table, if it exists.
func (s *sim) del(table, key string, at int64, ttl bool) bool {
	old := s.state[key]
	if old == nil {
		return false
	}
	delete(s.state, key)
	s.record(&change{table: table, event: eventRemove, micros: s.tick(at), key: key,
		keys: old.project(keyNames(table)...), old: old, ttl: ttl})
	return true
}

func msgKey(rm *room, sk string) string { return rm.id + "\x00" + sk }

// message returns the live message sk of rm.
func (s *sim) message(rm *room, sk string) item { return s.state[msgKey(rm, sk)] }

// updateRoom applies f to rm's item, if the room exists.
func (s *sim) updateRoom(rm *room, at int64, f func(item) item) {
	if !rm.live {
		return
	}
	cur := s.state[rm.id]
	if cur == nil {
		return
	}
	s.put(TableRooms, f(cur), at)
}

func (s *sim) dropMsg(rm *room, sk string) {
	for i, m := range rm.msgs {
		if m == sk {
			rm.msgs = append(rm.msgs[:i:i], rm.msgs[i+1:]...)
			return
		}
	}
}

// newRoomOpens makes a buyer open a chat about a seller's article.
func (s *sim) newRoomOpens(at int64) {
	seller := s.users[s.r.IntN(len(s.users))]
	buyer := s.users[s.r.IntN(len(s.users))]
	for buyer == seller {
		buyer = s.users[s.r.IntN(len(s.users))]
	}
	rm := newRoom(s.r, seller, buyer)
	s.rooms = append(s.rooms, rm)
	s.openRoom(rm, at)
}

// openRoom inserts rm's item (again, for a room that was left) and starts
// a conversation.
func (s *sim) openRoom(rm *room, at int64) {
	if rm.live {
		return
	}
	rm.live = true
	rm.budget = 3 + s.r.IntN(8)
	s.put(TableRooms, roomItem(rm, at/1000), at)
	s.at(at+s.r.between(3*second, 90*second), func(t int64) { s.send(rm, rm.buyer, t, kindOpener) })
}

// send inserts a message and updates the room, then schedules what
// follows: the other side reading it, replies, reactions, edits.
func (s *sim) send(rm *room, from *user, at int64, k msgKind) {
	if !rm.live {
		return
	}
	ms := at / 1000
	it := messageItem(s.r, rm, from, ms, k, ms/1000+ttlLong)
	s.put(TableMessages, it, at)
	skv, _ := it.get("sk")
	sk := skv.s
	rm.msgs = append(rm.msgs, sk)
	to := rm.other(from)
	price, hasPrice := it.get("price")
	s.updateRoom(rm, at, func(ri item) item {
		ri = ri.with("lastMessageAt", vInt(ms))
		uc, _ := ri.get("unreadCount")
		ri = ri.with("unreadCount", mapInc(uc, to.id, 1))
		if hasPrice {
			p, _ := ri.get("prices")
			ri = ri.with("prices", withSetMember(p, kindNS, price.s))
		}
		return ri
	})

	if side := rm.side(to); !rm.readPending[side] && s.r.chance(0.8) {
		rm.readPending[side] = true
		gap := s.r.between(20*second, 15*minute)
		if s.r.chance(0.25) {
			gap = s.r.between(15*minute, 6*hour)
		}
		s.at(at+gap, func(t int64) { s.read(rm, to, t) })
	}
	if s.r.chance(0.12) {
		s.at(at+s.r.between(time.Minute.Microseconds(), 40*minute), func(t int64) { s.react(rm, sk, to, t) })
	}
	if k == kindChat && s.r.chance(0.07) {
		s.at(at+s.r.between(10*second, 5*minute), func(t int64) { s.edit(rm, sk, t) })
	}
	if k != kindOpener && s.r.chance(0.04) {
		s.at(at+s.r.between(5*second, 10*minute), func(t int64) {
			if s.del(TableMessages, msgKey(rm, sk), t, false) {
				s.dropMsg(rm, sk)
			}
		})
	}
	if k == kindOffer && s.r.chance(0.6) {
		s.at(at+s.r.between(2*minute, 30*minute), func(t int64) { s.reserve(rm, t) })
	}

	rm.budget--
	if rm.budget <= 0 {
		s.at(at+s.r.between(10*minute, 3*hour), func(t int64) { s.complete(rm, t) })
		return
	}
	next := to
	if s.r.chance(0.3) {
		next = from
	}
	gap := s.r.between(10*second, 5*minute)
	switch x := s.r.Float64(); {
	case x < 0.06:
		gap = s.r.between(2*hour, 20*hour)
	case x < 0.3:
		gap = s.r.between(5*minute, 2*hour)
	}
	nk := s.nextKind(rm, next)
	s.at(at+gap, func(t int64) { s.send(rm, next, t, nk) })
}

func (s *sim) nextKind(rm *room, u *user) msgKind {
	switch x := s.r.Float64(); {
	case x < 0.10:
		return kindImage
	case x < 0.18:
		return kindSticker
	case x < 0.38 && u == rm.buyer && rm.offers < 3:
		rm.offers++
		return kindOffer
	case x < 0.41:
		return kindLong
	}
	return kindChat
}

// read marks the latest messages of the other side as read by reader and
// resets reader's unread count.
func (s *sim) read(rm *room, reader *user, at int64) {
	rm.readPending[rm.side(reader)] = false
	if !rm.live {
		return
	}
	marked := 0
	for i := len(rm.msgs) - 1; i >= 0 && marked < 3; i-- {
		it := s.message(rm, rm.msgs[i])
		if it == nil || senderID(it) == reader.id {
			continue
		}
		rb, _ := it.get("readBy")
		if hasMember(rb, reader.id) {
			break
		}
		s.put(TableMessages, it.with("readBy", withSetMember(rb, kindSS, reader.id)), at)
		marked++
	}
	s.updateRoom(rm, at, func(ri item) item {
		uc, _ := ri.get("unreadCount")
		return ri.with("unreadCount", mapInc(uc, reader.id, 0))
	})
}

func (s *sim) react(rm *room, sk string, by *user, at int64) {
	it := s.message(rm, sk)
	if it == nil {
		return
	}
	rv, _ := it.get("reactions")
	if rv.k != kindM {
		rv = vM()
	}
	s.put(TableMessages, it.with("reactions", mapInc(rv, s.r.pick(reactionEmoji), 1)), at)
}

func (s *sim) edit(rm *room, sk string, at int64) {
	it := s.message(rm, sk)
	if it == nil {
		return
	}
	body, _ := it.get("body")
	it = it.with("body", vS(body.s+" (수정됨) ✏️")).with("editedAt", vInt(at/1000))
	s.put(TableMessages, it, at)
}

// notice sends a system message that expires after ttlAfter; when that
// is short, the TTL deletion is scheduled too.
func (s *sim) notice(rm *room, at, ttlAfter int64) {
	if !rm.live {
		return
	}
	ms := at / 1000
	ttl := (at + ttlAfter) / second
	it := messageItem(s.r, rm, s.system, ms, kindSystem, ttl)
	s.put(TableMessages, it, at)
	skv, _ := it.get("sk")
	rm.msgs = append(rm.msgs, skv.s)
	s.updateRoom(rm, at, func(ri item) item { return ri.with("lastMessageAt", vInt(ms)) })
	if ttlAfter < 2*day {
		// DynamoDB deletes expired items some time after their ttl.
		s.at(ttl*second+s.r.between(time.Minute.Microseconds(), 60*minute), func(t int64) {
			if s.del(TableMessages, msgKey(rm, skv.s), t, true) {
				s.dropMsg(rm, skv.s)
			}
		})
	}
}

func (s *sim) setStatus(rm *room, status string, at int64) {
	s.updateRoom(rm, at, func(ri item) item { return ri.with("status", vS(status)) })
}

// reserve: the seller accepts an offer; a reminder follows before the
// meeting and expires soon after.
func (s *sim) reserve(rm *room, at int64) {
	if !rm.live {
		return
	}
	if cur, _ := s.state[rm.id].get("status"); cur.s != statusActive {
		return
	}
	s.setStatus(rm, statusReserved, at)
	s.notice(rm, at, ttlLong*second)
	s.at(at+s.r.between(hour, 5*hour), func(t int64) { s.notice(rm, t, s.r.between(30*minute, 2*hour)) })
}

// complete ends a conversation; some rooms are then left (removed) and
// some of those opened again later.
func (s *sim) complete(rm *room, at int64) {
	if !rm.live {
		return
	}
	s.setStatus(rm, statusCompleted, at)
	s.notice(rm, at, ttlLong*second)
	if s.r.chance(0.45) {
		s.at(at+s.r.between(hour, 8*hour), func(t int64) {
			if s.del(TableRooms, rm.id, t, false) {
				rm.live = false
				if s.r.chance(0.6) {
					s.at(t+s.r.between(2*hour, 20*hour), func(t int64) { s.openRoom(rm, t) })
				}
			}
		})
	}
}

// daily schedules what happens every day whatever the rooms do, so every
// day of the history has each kind of change: a message hidden by
// moderation for good (restored the next day), one hidden and restored
// the same day, a reminder removed by TTL expiry, and a reaction to a
// message from an earlier day.
func (s *sim) daily(ds int64) {
	s.at(ds+s.r.between(hour, 10*hour), func(t int64) { s.hide(t, ds, true, 0) })
	s.at(ds+s.r.between(2*hour, 12*hour), func(t int64) { s.hide(t, t-10*minute, false, 0) })
	s.at(ds+s.r.between(10*hour, 20*hour), func(t int64) { s.restore(t, ds) })
	s.at(ds+s.r.between(30*minute, 15*hour), func(t int64) { s.remind(t, 0) })
	s.at(ds+s.r.between(hour, 20*hour), func(t int64) { s.reactOld(t, ds, 0) })
}

// hide removes a random live non-system message created before
// createdBefore; keep holds it for a restore on a later day, otherwise it
// is restored within hours.
func (s *sim) hide(at, createdBefore int64, keep bool, tries int) {
	cands := s.messagesBefore(createdBefore)
	if len(cands) == 0 {
		if tries < 12 {
			s.at(at+hour, func(t int64) { s.hide(t, t-10*minute, keep, tries+1) })
		}
		return
	}
	h := cands[s.r.IntN(len(cands))]
	h.at = at
	skv, _ := h.it.get("sk")
	s.del(TableMessages, msgKey(h.rm, skv.s), at, false)
	s.dropMsg(h.rm, skv.s)
	h.it = h.it.with("메모", vS("신고 검토 후 복원"))
	if keep {
		s.hidden = append(s.hidden, h)
		return
	}
	s.at(at+s.r.between(20*minute, 3*hour), func(t int64) { s.unhide(h, t) })
}

// messagesBefore returns the live messages of users (not notices)
// created before t.
func (s *sim) messagesBefore(t int64) []hiddenMsg {
	var out []hiddenMsg
	for _, rm := range s.rooms {
		for _, sk := range rm.msgs {
			it := s.message(rm, sk)
			if it == nil || senderID(it) == s.system.id {
				continue
			}
			if c, _ := it.get("createdAt"); parseInt(c.s)*1000 < t {
				out = append(out, hiddenMsg{rm: rm, it: it})
			}
		}
	}
	return out
}

// reactOld adds a reaction to a message created before day start ds, so
// that every day modifies an item that existed before it.
func (s *sim) reactOld(at, ds int64, tries int) {
	cands := s.messagesBefore(min(ds, at-10*minute))
	if len(cands) == 0 {
		if tries < 12 {
			s.at(at+hour, func(t int64) { s.reactOld(t, ds, tries+1) })
		}
		return
	}
	h := cands[s.r.IntN(len(cands))]
	skv, _ := h.it.get("sk")
	s.react(h.rm, skv.s, h.rm.seller, at)
}

// restore re-inserts the messages hidden before day start ds.
func (s *sim) restore(at, ds int64) {
	var keep []hiddenMsg
	for _, h := range s.hidden {
		if h.at >= ds {
			keep = append(keep, h)
			continue
		}
		s.unhide(h, at)
		at += s.r.between(second, minute)
	}
	s.hidden = keep
}

func (s *sim) unhide(h hiddenMsg, at int64) {
	skv, _ := h.it.get("sk")
	if s.message(h.rm, skv.s) != nil {
		return
	}
	s.put(TableMessages, h.it.with("restoredAt", vInt(at/1000)), at)
	h.rm.msgs = append(h.rm.msgs, skv.s)
}

// remind sends a short-lived reminder in a random live room.
func (s *sim) remind(at int64, tries int) {
	var live []*room
	for _, rm := range s.rooms {
		if rm.live {
			live = append(live, rm)
		}
	}
	if len(live) == 0 {
		if tries < 12 {
			s.at(at+hour, func(t int64) { s.remind(t, tries+1) })
		}
		return
	}
	s.notice(live[s.r.IntN(len(live))], at, s.r.between(30*minute, 3*hour))
}

func parseInt(s string) int64 {
	var n int64
	for i := 0; i < len(s); i++ {
		n = n*10 + int64(s[i]-'0')
	}
	return n
}
