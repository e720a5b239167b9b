package gluedef

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"
)

// TableInput is Glue's TableInput: what CreateTable and UpdateTable store.
// The fields are those ddblake writes or carries over from a stored
// table; they are declared in the order of Glue's API model, the order
// JSON renders them in. Empty fields are left out.
type TableInput struct {
	Name              string             `json:"Name"`
	Description       string             `json:"Description,omitempty"`
	LastAccessTime    *Time              `json:"LastAccessTime,omitempty"`
	LastAnalyzedTime  *Time              `json:"LastAnalyzedTime,omitempty"`
	Owner             string             `json:"Owner,omitempty"`
	Parameters        map[string]string  `json:"Parameters,omitempty"`
	PartitionKeys     []Column           `json:"PartitionKeys,omitempty"`
	Retention         int32              `json:"Retention,omitempty"`
	StorageDescriptor *StorageDescriptor `json:"StorageDescriptor,omitempty"`
	TableType         string             `json:"TableType,omitempty"`
	// TargetTable (a resource link's target) is kept as Glue sent it.
	TargetTable      json.RawMessage `json:"TargetTable,omitempty"`
	ViewExpandedText string          `json:"ViewExpandedText,omitempty"`
	ViewOriginalText string          `json:"ViewOriginalText,omitempty"`
}

// Table is a stored table (or view) as GetTable answers it: the fields
// of TableInput, and those Glue keeps about it (CatalogId, DatabaseName,
// CreateTime, UpdateTime, VersionId). Other fields of the answer are not
// read.
type Table struct {
	Name              string             `json:"Name"`
	CatalogID         string             `json:"CatalogId,omitempty"`
	CreateTime        *Time              `json:"CreateTime,omitempty"`
	DatabaseName      string             `json:"DatabaseName,omitempty"`
	Description       string             `json:"Description,omitempty"`
	LastAccessTime    *Time              `json:"LastAccessTime,omitempty"`
	LastAnalyzedTime  *Time              `json:"LastAnalyzedTime,omitempty"`
	Owner             string             `json:"Owner,omitempty"`
	Parameters        map[string]string  `json:"Parameters,omitempty"`
	PartitionKeys     []Column           `json:"PartitionKeys,omitempty"`
	Retention         int32              `json:"Retention,omitempty"`
	StorageDescriptor *StorageDescriptor `json:"StorageDescriptor,omitempty"`
	TableType         string             `json:"TableType,omitempty"`
	TargetTable       json.RawMessage    `json:"TargetTable,omitempty"`
	UpdateTime        *Time              `json:"UpdateTime,omitempty"`
	VersionID         string             `json:"VersionId,omitempty"`
	ViewExpandedText  string             `json:"ViewExpandedText,omitempty"`
	ViewOriginalText  string             `json:"ViewOriginalText,omitempty"`
}

// Input returns the TableInput that stores t again as it is: its own
// fields, with the storage descriptor (the fields this package does not
// model included), parameters and columns copied, so that changing the
// input leaves t alone.
func (t *Table) Input() *TableInput {
	in := &TableInput{
		Name:             t.Name,
		Description:      t.Description,
		LastAccessTime:   t.LastAccessTime,
		LastAnalyzedTime: t.LastAnalyzedTime,
		Owner:            t.Owner,
		Parameters:       maps.Clone(t.Parameters),
		PartitionKeys:    slices.Clone(t.PartitionKeys),
		Retention:        t.Retention,
		TableType:        t.TableType,
		TargetTable:      t.TargetTable,
		ViewExpandedText: t.ViewExpandedText,
		ViewOriginalText: t.ViewOriginalText,
	}
	if t.StorageDescriptor != nil {
		sd := *t.StorageDescriptor
		sd.Columns = slices.Clone(sd.Columns)
		sd.Parameters = maps.Clone(sd.Parameters)
		sd.Other = maps.Clone(sd.Other)
		in.StorageDescriptor = &sd
	}
	return in
}

// StorageDescriptor is where and how a table's data is stored. Fields
// that ddblake does not set (AdditionalLocations, BucketColumns,
// Compressed, NumberOfBuckets, SchemaReference, SkewedInfo, SortColumns,
// StoredAsSubDirectories) are kept in Other as Glue sent them, so that a
// table read, merged and stored again keeps them.
type StorageDescriptor struct {
	Columns      []Column          `json:"Columns,omitempty"`
	InputFormat  string            `json:"InputFormat,omitempty"`
	Location     string            `json:"Location,omitempty"`
	OutputFormat string            `json:"OutputFormat,omitempty"`
	Parameters   map[string]string `json:"Parameters,omitempty"`
	SerdeInfo    *SerDeInfo        `json:"SerdeInfo,omitempty"`
	// Other holds the fields read that are not above, by name.
	Other map[string]json.RawMessage `json:"-"`
}

// storageFields is StorageDescriptor without its methods.
type storageFields StorageDescriptor

// MarshalJSON renders the fields, then those of Other that they do not
// name (all in name order when there are any).
func (sd StorageDescriptor) MarshalJSON() ([]byte, error) {
	known, err := marshal(storageFields(sd))
	if err != nil || len(sd.Other) == 0 {
		return known, err
	}
	all := map[string]json.RawMessage{}
	if err := json.Unmarshal(known, &all); err != nil {
		return nil, err
	}
	for k, v := range sd.Other {
		if _, ok := all[k]; !ok {
			all[k] = v
		}
	}
	return marshal(all)
}

// marshal is json.Marshal without HTML escaping: what a Marshaler
// returns keeps its escapes in the encoder's output, and JSON's output
// has none.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// UnmarshalJSON reads the fields, and keeps the others in Other.
func (sd *StorageDescriptor) UnmarshalJSON(b []byte) error {
	var f storageFields
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	for _, k := range []string{"Columns", "InputFormat", "Location", "OutputFormat", "Parameters", "SerdeInfo"} {
		delete(all, k)
	}
	f.Other = nil
	if len(all) > 0 {
		f.Other = all
	}
	*sd = StorageDescriptor(f)
	return nil
}

// SerDeInfo names the serialization library and its parameters.
type SerDeInfo struct {
	Name                 string            `json:"Name,omitempty"`
	Parameters           map[string]string `json:"Parameters,omitempty"`
	SerializationLibrary string            `json:"SerializationLibrary,omitempty"`
}

// Column is a table column: a name, a Hive type, a comment and
// parameters.
type Column struct {
	Name       string            `json:"Name"`
	Comment    string            `json:"Comment,omitempty"`
	Parameters map[string]string `json:"Parameters,omitempty"`
	Type       string            `json:"Type,omitempty"`
}

// Time is a time as Glue's JSON carries it: seconds since the epoch,
// with a fraction (milliseconds are kept).
type Time struct{ time.Time }

// MarshalJSON renders t as epoch seconds.
func (t Time) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(t.UnixMilli())/1000, 'f', -1, 64), nil
}

// UnmarshalJSON reads epoch seconds.
func (t *Time) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || math.Abs(f) > 1e13 {
		return fmt.Errorf("gluedef: time %.40q: want epoch seconds", b)
	}
	t.Time = time.UnixMilli(int64(math.Round(f * 1000))).UTC()
	return nil
}

// JSON renders v (a TableInput, Table...) as Glue's API and the AWS CLI
// (--table-input file://...) take it: indented by two spaces, map keys
// sorted, empty fields left out, no HTML escaping (types read
// array<string>), and a final newline.
func JSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("gluedef: render JSON: %w", err)
	}
	return b.Bytes(), nil
}
