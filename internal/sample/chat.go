package sample

import (
	"strconv"
	"strings"
)

// Table names and key attributes of the chat workload.
const (
	// TableMessages holds one item per chat message: partition key roomId
	// (S), sort key sk (S, "MSG#" and a ULID).
	TableMessages = "chat-messages"
	// TableRooms holds one item per chat room: partition key roomId (S).
	TableRooms = "chat-rooms"
)

var (
	messageKeys = []string{"roomId", "sk"}
	roomKeys    = []string{"roomId"}
)

// keyNames returns the key attribute names of table.
func keyNames(table string) []string {
	if table == TableRooms {
		return roomKeys
	}
	return messageKeys
}

// Message types.
const (
	typeText    = "text"
	typeImage   = "image"
	typeSticker = "sticker"
	typeSystem  = "system"
)

// Room statuses.
const (
	statusActive    = "active"
	statusReserved  = "reserved"
	statusCompleted = "completed"
)

// msgKind is what a generated message is about.
type msgKind uint8

const (
	kindOpener msgKind = iota
	kindChat
	kindImage
	kindSticker
	kindOffer
	kindSystem
	kindLong
)

// ttlLong is how long an ordinary message lives (180 days), in seconds.
const ttlLong = 180 * 24 * 3600

// user is a chat participant.
type user struct {
	id       string
	nickname string
	imageURL string // "" when the user has no profile picture
	region   string
	manner   string // manner temperature, a DynamoDB number
	client   string
	sender   value // senderValue, once built
}

func newUser(r rnd) *user {
	u := &user{
		id:       "u" + r.alnum(lowerAlnum, 7),
		nickname: r.pick(nickAdjectives) + r.pick(nickNouns),
		region:   r.pick(regions),
		client:   r.pick(clients),
	}
	if r.chance(0.3) {
		u.nickname += strconv.Itoa(r.IntN(100))
	}
	if !r.chance(0.2) {
		u.imageURL = "https://img.example.com/profile/2026/03/" + r.hex(20) + ".jpg"
	}
	// Manner temperature: 36.5 at sign-up, drifting with reviews.
	t := 365 + int(r.NormFloat64()*25)
	t = max(200, min(t, 650))
	if t%10 == 0 {
		u.manner = strconv.Itoa(t / 10) // DynamoDB trims "37.0" to "37"
	} else {
		u.manner = strconv.Itoa(t/10) + "." + strconv.Itoa(t%10)
	}
	return u
}

// newSystemUser is the sender of notices.
func newSystemUser() *user {
	return &user{id: "system", nickname: "당근 알림", region: "", manner: "36.5", client: "server"}
}

// senderValue is the sender map stored in a message. It is built once
// per user; values are never mutated, so messages share it.
func (u *user) senderValue() value {
	if u.sender.k == 0 {
		u.sender = u.buildSender()
	}
	return u.sender
}

func (u *user) buildSender() value {
	img := vNull()
	if u.imageURL != "" {
		img = vS(u.imageURL)
	}
	profile := vM(
		a("imageUrl", img),
		a("region", vS(u.region)),
		a("mannerTemperature", vN(u.manner)),
	)
	return vM(a("userId", vS(u.id)), a("nickname", vS(u.nickname)), a("profile", profile))
}

// room is a chat between a seller and a buyer about one article.
type room struct {
	id        string
	art       article
	articleID int64
	seller    *user
	buyer     *user
	tags      []string
	thumb     []byte // article thumbnail, nil for none

	live        bool     // the chat-rooms item exists
	budget      int      // messages left in the current conversation
	msgs        []string // sort keys of the room's live messages, oldest first
	readPending [2]bool  // a read is scheduled for seller (0), buyer (1)
	offers      int
}

func newRoom(r rnd, seller, buyer *user) *room {
	art := articles[r.IntN(len(articles))]
	rm := &room{
		art:       art,
		articleID: r.between(700000000, 990000000),
		seller:    seller,
		buyer:     buyer,
	}
	rm.id = "chat-" + strconv.FormatInt(rm.articleID, 10) + "-" + buyer.id
	if r.chance(0.5) {
		rm.thumb = thumbnail(r)
	}
	rm.tags = []string{art.category}
	if art.price == 0 {
		rm.tags = append(rm.tags, "나눔")
	}
	for _, t := range extraTags {
		if t != "나눔" && r.chance(0.25) {
			rm.tags = append(rm.tags, t)
		}
	}
	return rm
}

// other returns the participant who is not u.
func (rm *room) other(u *user) *user {
	if u == rm.seller {
		return rm.buyer
	}
	return rm.seller
}

// side is 0 for the seller, 1 for the buyer.
func (rm *room) side(u *user) int {
	if u == rm.seller {
		return 0
	}
	return 1
}

// roomItem is a new chat-rooms item.
func roomItem(rm *room, ms int64) item {
	it := item{
		a("roomId", vS(rm.id)),
		a("articleId", vInt(rm.articleID)),
		a("articleTitle", vS(rm.art.title)),
		a("sellerId", vS(rm.seller.id)),
		a("buyerId", vS(rm.buyer.id)),
		a("status", vS(statusActive)),
		a("region", vS(rm.seller.region)),
		a("createdAt", vInt(ms)),
		a("lastMessageAt", vInt(ms)),
		a("unreadCount", vM(a(rm.seller.id, vInt(0)), a(rm.buyer.id, vInt(0)))),
		a("tags", vSS(rm.tags...)),
	}
	if rm.thumb != nil {
		it = append(it, a("articleThumb", vB(rm.thumb)))
	}
	return it
}

// thumbnail is a few bytes that begin like a JPEG.
func thumbnail(r rnd) []byte {
	b := make([]byte, 12+r.IntN(36))
	copy(b, "\xff\xd8\xff\xe0\x00\x10JFIF\x00")
	for i := 11; i < len(b); i++ {
		b[i] = byte(r.IntN(256))
	}
	return b
}

// offerPrice is a price offer below the asking price, with two decimals.
func offerPrice(r rnd, art article) string {
	base := int64(art.price)
	if base == 0 {
		base = 5000
	}
	units := base * int64(80+r.IntN(21)) / 100 / 500 * 500
	return decimal2(units, 1+r.IntN(99))
}

// metaJSON is the meta attribute: a JSON object in a string.
func metaJSON(r rnd, u *user, k msgKind, price string) string {
	var b strings.Builder
	b.WriteString(`{"client":"`)
	b.WriteString(u.client)
	b.WriteString(`","appVersion":"`)
	b.WriteString(r.pick(appVersions))
	b.WriteString(`","msgVersion":`)
	b.WriteString(strconv.Itoa(1 + r.IntN(3)))
	b.WriteString(`,"translated":`)
	b.WriteString(strconv.FormatBool(r.chance(0.1)))
	if k == kindOffer {
		b.WriteString(`,"offer":{"currency":"KRW","amount":"`)
		b.WriteString(price)
		b.WriteString(`"}`)
	}
	if k == kindSystem {
		b.WriteString(`,"template":"notice_`)
		b.WriteString(strconv.Itoa(r.IntN(40)))
		b.WriteString(`","vars":{"lang":"ko"}`)
	}
	b.WriteByte('}')
	return b.String()
}

// messageItem builds a new chat-messages item sent by u at ms (epoch
// milliseconds), with a sort key unique to it. ttlSec is the item's ttl
// attribute (epoch seconds).
func messageItem(r rnd, rm *room, u *user, ms int64, k msgKind, ttlSec int64) item {
	sk := "MSG#" + r.ulid(ms)
	typ, body := typeText, ""
	switch k {
	case kindOpener:
		body = r.pick(buyerOpeners)
	case kindChat:
		if u == rm.seller {
			body = r.pick(sellerLines)
		} else {
			body = r.pick(buyerLines)
		}
	case kindLong:
		body = longLine
	case kindImage:
		typ = typeImage
		if r.chance(0.5) {
			body = "사진을 보냈어요."
		}
	case kindSticker:
		typ, body = typeSticker, r.pick(stickers)
	case kindSystem:
		typ, body = typeSystem, r.pick(systemLines)
	}
	price := ""
	if k == kindOffer {
		price = offerPrice(r, rm.art)
		body = price + "원에 가능할까요? 🙂"
	}
	it := make(item, 0, 20)
	it = append(it,
		a("roomId", vS(rm.id)),
		a("sk", vS(sk)),
		a("type", vS(typ)),
		a("body", vS(body)),
		a("sender", u.senderValue()),
		a("createdAt", vInt(ms)),
		a("readBy", vSS(u.id)),
		a("flags", vL(vBool(r.chance(0.05)), vBool(k == kindSystem))),
		a("meta", vS(metaJSON(r, u, k, price))),
		a("ttl", vInt(ttlSec)),
	)
	if k == kindImage {
		n := 1 + r.IntN(3)
		atts := make([]value, n)
		for i := range atts {
			w := int64(480 + 160*r.IntN(16))
			atts[i] = vM(
				a("url", vS("https://img.example.com/chat/2026/04/"+r.hex(24)+".jpg")),
				a("width", vInt(w)),
				a("height", vInt(w*int64(3+r.IntN(2))/4)),
				a("mime", vS(r.pick(imageMimes))),
			)
		}
		it = append(it, a("attachments", vL(atts...)))
		if r.chance(0.75) {
			it = append(it, a("thumb", vB(thumbnail(r))))
		}
	}
	if price != "" {
		it = append(it, a("price", vN(price)))
	}
	if r.chance(0.08) {
		it = append(it, a("replyTo", vNull()))
	}
	if r.chance(0.05) {
		// A client trace number wider than int64: 38 significant digits.
		it = append(it, a("traceNo", vN(r.digits(38))))
	}
	if r.chance(0.04) {
		it = append(it, a("메모", vS(r.pick(memos))))
	}
	return it
}

// senderID returns the sender.userId of a message item.
func senderID(it item) string {
	s, _ := it.get("sender")
	for _, at := range s.m {
		if at.name == "userId" {
			return at.v.s
		}
	}
	return ""
}

// mapInc returns map value m with key k's number incremented by d (set
// to d when absent; set to 0 when d is 0).
func mapInc(m value, k string, d int64) value {
	out := make([]attr, 0, len(m.m)+1)
	found := false
	for _, at := range m.m {
		if at.name == k {
			n, _ := strconv.ParseInt(at.v.s, 10, 64)
			if d == 0 {
				n = 0
			} else {
				n += d
			}
			at.v = vInt(n)
			found = true
		}
		out = append(out, at)
	}
	if !found {
		out = append(out, a(k, vInt(d)))
	}
	return vM(out...)
}
