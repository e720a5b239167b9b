package firehose

import (
	"fmt"
	"strings"
)

// TablePlaceholder is replaced by the lake table name in a stream template.
const TablePlaceholder = "{table}"

// MaxStreamNameLen is the longest delivery stream name Firehose accepts.
const MaxStreamNameLen = 64

// StreamName returns the delivery stream for table: template with every
// "{table}" replaced by the table name ("ddblake-{table}" gives
// "ddblake-chat_messages"). A template without "{table}" names one stream
// for every table. It fails with ErrBadStreamName when the result is not
// 1-64 of [a-zA-Z0-9_.-].
func StreamName(template, table string) (string, error) {
	name := strings.ReplaceAll(template, TablePlaceholder, table)
	if !validStreamName(name) {
		return "", fmt.Errorf("%w: %q (from %q for table %q): want 1-%d of [a-zA-Z0-9_.-]",
			ErrBadStreamName, name, template, table, MaxStreamNameLen)
	}
	return name, nil
}

// validateTemplate checks that template makes a valid name for some table.
func validateTemplate(template string) error {
	if template == "" {
		return fmt.Errorf("%w: stream: a delivery stream name or template is required", ErrBadConfig)
	}
	// "x" stands for the shortest table name.
	if _, err := StreamName(template, "x"); err != nil {
		return fmt.Errorf("%w: stream: %w", ErrBadConfig, err)
	}
	return nil
}

func validStreamName(s string) bool {
	if len(s) == 0 || len(s) > MaxStreamNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}
