package sample

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"hash/fnv"
	"strconv"
	"strings"
)

// Where the workload lives.
const (
	awsRegion     = "ap-northeast-2"
	awsAccount    = "123456789012"
	streamLabel   = "2026-01-01T00:00:00.000"
	kinesisStream = "chat-cdc"
	exportBucket  = "chat-lake-exports"
)

func tableARN(table string) string {
	return "arn:aws:dynamodb:" + awsRegion + ":" + awsAccount + ":table/" + table
}

func streamARN(table string) string { return tableARN(table) + "/stream/" + streamLabel }

// MaxLambdaRecords is the most records a DynamoDB stream Lambda event
// holds.
const MaxLambdaRecords = 10000

// seqShard hands out increasing sequence numbers of one stream shard:
// a fixed prefix and a 15-digit counter.
type seqShard struct {
	prefix string
	n      uint64
}

func newSeqShard(r rnd, digits int) *seqShard {
	return &seqShard{prefix: r.digits(digits - 15), n: uint64(r.between(1e12, 1e13))}
}

// newKinesisShard returns the sequence of a Kinesis shard: 56 digits,
// beginning with 49 like those Kinesis hands out.
func newKinesisShard(r rnd, id string) *kinesisShard {
	return &kinesisShard{id: id, seq: &seqShard{prefix: "49" + r.digits(39), n: uint64(r.between(1e12, 1e13))}}
}

func (s *seqShard) next(r rnd) string {
	s.n += 1 + uint64(r.IntN(50000))
	c := strconv.FormatUint(s.n, 10)
	return s.prefix + strings.Repeat("0", 15-len(c)) + c
}

// tableStream is a table's DynamoDB stream: items are spread over shards
// by partition key, so the changes of one item stay in one shard, in
// order.
type tableStream struct {
	shards []*seqShard
	byPK   map[string]int // partition key -> shard
}

// newTableStreams makes the streams of both tables. The messages stream
// has a shard with 21-digit sequence numbers and one with 40-digit ones
// (a shard opened long after the stream began).
func newTableStreams(r rnd) map[string]*tableStream {
	return map[string]*tableStream{
		TableMessages: {shards: []*seqShard{newSeqShard(r, 21), newSeqShard(r, 40)}, byPK: map[string]int{}},
		TableRooms:    {shards: []*seqShard{newSeqShard(r, 21)}, byPK: map[string]int{}},
	}
}

func hash32(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

// shardOf returns the shard of c's partition key. Keys are dealt to the
// shards in turn as they first appear, which spreads even a small history
// over every shard.
func (ts *tableStream) shardOf(c *change) int {
	pk, _ := c.keys.get("roomId")
	sh, ok := ts.byPK[pk.s]
	if !ok {
		sh = len(ts.byPK) % len(ts.shards)
		ts.byPK[pk.s] = sh
	}
	return sh
}

// record is a change at its place in a stream.
type record struct {
	*change
	shard int
	seq   string
}

// sequence gives each change of cs its shard and sequence number.
func sequence(r rnd, streams map[string]*tableStream, cs []*change) []record {
	out := make([]record, len(cs))
	for i, c := range cs {
		ts := streams[c.table]
		sh := ts.shardOf(c)
		out[i] = record{change: c, shard: sh, seq: ts.shards[sh].next(r)}
	}
	return out
}

// appendEpochSeconds writes micros as epoch seconds: mostly an integer,
// sometimes a float (with or without a fraction), as producers differ.
func appendEpochSeconds(dst []byte, micros int64, variant uint32) []byte {
	sec := micros / second
	dst = strconv.AppendInt(dst, sec, 10)
	switch variant % 8 {
	case 0:
		ms := micros / 1000 % 1000
		dst = append(dst, '.')
		dst = append(dst, byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	case 1:
		dst = append(dst, ".0"...)
	}
	return dst
}

// ttlIdentity is the userIdentity of a REMOVE made by TTL expiry.
const ttlIdentity = `{"type":"Service","principalId":"dynamodb.amazonaws.com"}`

// appendStreamRecord appends one DynamoDB stream record (an element of a
// Lambda event's Records), view type NEW_AND_OLD_IMAGES.
func appendStreamRecord(dst []byte, rec record) []byte {
	c := rec.change
	dst = append(dst, `{"eventID":"`...)
	dst = append(dst, c.id...)
	dst = append(dst, `","eventName":"`...)
	dst = append(dst, c.event...)
	dst = append(dst, `","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"`+awsRegion+`","dynamodb":{"ApproximateCreationDateTime":`...)
	dst = appendEpochSeconds(dst, c.micros, c.variant)
	dst = appendImages(dst, c)
	dst = append(dst, `,"SequenceNumber":"`...)
	dst = append(dst, rec.seq...)
	dst = append(dst, `","SizeBytes":`...)
	dst = strconv.AppendInt(dst, int64(changeSize(c)), 10)
	dst = append(dst, `,"StreamViewType":"NEW_AND_OLD_IMAGES"}`...)
	if c.ttl {
		dst = append(dst, `,"userIdentity":`+ttlIdentity...)
	}
	dst = append(dst, `,"eventSourceARN":`...)
	dst = appendString(dst, streamARN(c.table))
	return append(dst, '}')
}

// appendImages appends ,"Keys":..,"NewImage":..,"OldImage":.. (images
// only when present).
func appendImages(dst []byte, c *change) []byte {
	dst = append(dst, `,"Keys":`...)
	dst = appendItem(dst, c.keys)
	if c.new != nil {
		dst = append(dst, `,"NewImage":`...)
		dst = appendItem(dst, c.new)
	}
	if c.old != nil {
		dst = append(dst, `,"OldImage":`...)
		dst = appendItem(dst, c.old)
	}
	return dst
}

func changeSize(c *change) int {
	return itemSize(c.keys) + itemSize(c.new) + itemSize(c.old)
}

// appendLambdaEvent appends {"Records":[...]} of recs.
func appendLambdaEvent(dst []byte, recs []record) []byte {
	dst = append(dst, `{"Records":[`...)
	for i, rec := range recs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendStreamRecord(dst, rec)
	}
	return append(dst, "]}\n"...)
}

// Timestamp precision of Kinesis Data Streams for DynamoDB, chosen per
// table when the destination is enabled.
func kinesisPrecision(table string) string {
	if table == TableRooms {
		return "MICROSECOND"
	}
	return "MILLISECOND"
}

// appendKinesisData appends the DynamoDB-for-Kinesis record of c (what
// kinesis.data holds, before base64).
func appendKinesisData(dst []byte, c *change) []byte {
	dst = append(dst, `{"awsRegion":"`+awsRegion+`","eventID":"`...)
	dst = append(dst, uuid(c.id)...)
	dst = append(dst, `","eventName":"`...)
	dst = append(dst, c.event...)
	dst = append(dst, `","userIdentity":`...)
	if c.ttl {
		dst = append(dst, ttlIdentity...)
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"recordFormat":"application/json","tableName":`...)
	dst = appendString(dst, c.table)
	dst = append(dst, `,"dynamodb":{"ApproximateCreationDateTime":`...)
	prec := kinesisPrecision(c.table)
	if prec == "MICROSECOND" {
		dst = strconv.AppendInt(dst, c.micros, 10)
	} else {
		dst = strconv.AppendInt(dst, c.micros/1000, 10)
	}
	dst = append(dst, `,"ApproximateCreationDateTimePrecision":"`...)
	dst = append(dst, prec...)
	dst = append(dst, '"')
	dst = appendImages(dst, c)
	dst = append(dst, `,"SizeBytes":`...)
	dst = strconv.AppendInt(dst, int64(changeSize(c)), 10)
	return append(dst, `},"eventSource":"aws:dynamodb"}`...)
}

// kinesisShard hands out the 56-digit sequence numbers of one Kinesis
// shard.
type kinesisShard struct {
	id  string
	seq *seqShard
}

// kinesisRecord is one record of a Kinesis Lambda event.
type kinesisRecord struct {
	shard   *kinesisShard
	seq     string
	data    []byte // the DynamoDB-for-Kinesis JSON
	pk      string // partition key
	arrival int64  // Unix microseconds
	table   string
}

// partitionKey is the Kinesis partition key DynamoDB uses for an item:
// hex of a hash of the item's partition key.
func partitionKey(c *change) string {
	pk, _ := c.keys.get("roomId")
	sum := md5.Sum([]byte(c.table + "/" + pk.s))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

func appendKinesisRecord(dst []byte, kr kinesisRecord) []byte {
	dst = append(dst, `{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"`...)
	dst = append(dst, kr.pk...)
	dst = append(dst, `","sequenceNumber":"`...)
	dst = append(dst, kr.seq...)
	dst = append(dst, `","data":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, kr.data)
	dst = append(dst, `","approximateArrivalTimestamp":`...)
	dst = strconv.AppendInt(dst, kr.arrival/second, 10)
	ms := kr.arrival / 1000 % 1000
	dst = append(dst, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	dst = append(dst, `},"eventSource":"aws:kinesis","eventVersion":"1.0","eventID":"`...)
	dst = append(dst, kr.shard.id...)
	dst = append(dst, ':')
	dst = append(dst, kr.seq...)
	dst = append(dst, `","eventName":"aws:kinesis:record","invokeIdentityArn":"arn:aws:iam::`+awsAccount+`:role/ddblake-lambda","awsRegion":"`+awsRegion+`","eventSourceARN":"arn:aws:kinesis:`+awsRegion+`:`+awsAccount+`:stream/`+kinesisStream+`"}`...)
	return dst
}
