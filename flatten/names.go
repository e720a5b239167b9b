package flatten

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/ddblake/ddblake/schemas"
)

// SanitizeName turns one attribute or table name into [a-z0-9_]:
// camelCase becomes snake_case, letters are lower-cased with accents
// stripped, any other character becomes '_', runs of '_' collapse and
// leading or trailing '_' are trimmed. The result may be empty.
func SanitizeName(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if !ascii {
		s = stripAccents(s)
	}
	var b strings.Builder
	b.Grow(len(s) + 4)
	under := true // suppress leading '_'
	put := func(c byte) {
		if c == '_' {
			if under {
				return
			}
			under = true
		} else {
			under = false
		}
		b.WriteByte(c)
	}
	runes := []rune(s)
	for i, r := range runes {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			put(byte(r))
		case r >= 'A' && r <= 'Z':
			if i > 0 {
				prev := runes[i-1]
				nextLower := i+1 < len(runes) && runes[i+1] >= 'a' && runes[i+1] <= 'z'
				if (prev >= 'a' && prev <= 'z') || (prev >= '0' && prev <= '9') ||
					(prev >= 'A' && prev <= 'Z' && nextLower) {
					put('_')
				}
			}
			put(byte(r - 'A' + 'a'))
		default:
			put('_')
		}
	}
	return strings.TrimRight(b.String(), "_")
}

// stripAccents decomposes s and drops combining marks: "Crème" → "Creme".
func stripAccents(s string) string {
	d := norm.NFD.String(s)
	var b strings.Builder
	b.Grow(len(d))
	for _, r := range d {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ColumnName proposes the column name of an attribute path (made by
// JoinPath): the sanitized segments joined with '_'. A path whose name
// sanitizes to nothing becomes col_<first 8 hex of sha256(path)>. In a
// path with other segments, a segment that sanitizes to nothing (an
// emoji, a Korean word) is written as the first 8 hex of its sha256, so
// that reactions.🥕 and reactions.👍 get names of their own rather than
// reactions and reactions_2. A name longer than 255 bytes is cut and
// given the path's hash as suffix. The schema makes the proposal unique
// (Schema.UniqueName).
func ColumnName(path string) string {
	segs := SplitPath(path)
	parts := make([]string, 0, len(segs))
	empty := 0
	for _, seg := range segs {
		s := SanitizeName(seg)
		if s == "" {
			empty++
			s = pathHash(seg)
		}
		parts = append(parts, s)
	}
	if empty == len(parts) {
		return "col_" + pathHash(path)
	}
	name := strings.Join(parts, "_")
	if len(name) > schemas.MaxNameLen {
		name = strings.TrimRight(name[:schemas.MaxNameLen-9], "_") + "_" + pathHash(path)
	}
	return name
}

func pathHash(path string) string {
	sum := sha256.Sum256([]byte(path))
	return hex.EncodeToString(sum[:4])
}

// TableName returns the lake table name of a DynamoDB table name
// ("chat-messages" → "chat_messages"): the name sanitized like an
// attribute name. Every valid DynamoDB name gives a valid lake name: one
// that sanitizes to nothing ("___", "-.-") becomes table_<first 8 hex of
// sha256(name)>, and one whose sanitized form is longer than
// schemas.MaxTableNameLen is cut and given the same hash as suffix, so
// that the files, registry entries and views named after it stay within
// the file-system and Athena limits.
func TableName(dynamoName string) string {
	n := SanitizeName(dynamoName)
	switch {
	case n == "":
		return "table_" + pathHash(dynamoName)
	case len(n) > schemas.MaxTableNameLen:
		n = strings.TrimRight(n[:schemas.MaxTableNameLen-9], "_") + "_" + pathHash(dynamoName)
	}
	return n
}
