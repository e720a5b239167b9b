package catalog

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/schemas/gluedef"
)

// Markers of a view stored in the Glue catalog the way Athena stores the
// views it creates: a VIRTUAL_VIEW whose ViewOriginalText holds the
// base64 of a JSON document with the SQL and the view's columns in Trino
// types.
const (
	viewType         = "VIRTUAL_VIEW"
	viewTextPrefix   = "/* Presto View: "
	viewTextSuffix   = " */"
	viewExpandedText = "/* Presto View */"
)

// MaxViewTextLen is the longest ViewOriginalText Glue stores (409,600
// characters). A view's text is the base64 of its SQL and its column
// list, so a view can be within Athena's MaxStatementBytes as SQL and
// still too long for Glue.
const MaxViewTextLen = 409600

// prestoView is the document Athena keeps in a view's ViewOriginalText.
type prestoView struct {
	OriginalSQL string             `json:"originalSql"`
	Catalog     string             `json:"catalog"`
	Schema      string             `json:"schema"`
	Columns     []prestoViewColumn `json:"columns"`
}

type prestoViewColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// ViewInput returns the Glue definition of s's <table>_latest view, as
// Athena stores a view created by CREATE VIEW: the SELECT of
// schemas.LatestViewDDL (or schemas.LatestStateViewDDL over state, when
// it is not nil) with the table's columns then its partition columns.
// It fails like those, and with a *schemas.DefinitionError wrapping
// ErrViewTooLong when the view's text would pass MaxViewTextLen, which
// Glue would refuse.
func ViewInput(s *schemas.Schema, o schemas.Options, state *schemas.LatestState) (*gluedef.TableInput, error) {
	var ddl string
	var err error
	if state != nil {
		ddl, err = schemas.LatestStateViewDDL(s, o, *state)
	} else {
		ddl, err = schemas.LatestViewDDL(s, o)
	}
	if err != nil {
		return nil, err
	}
	_, sel, ok := strings.Cut(ddl, " AS\n")
	if !ok {
		return nil, fmt.Errorf("view of %s: no SELECT in %.60q", s.Table, ddl)
	}
	cols := append(schemas.TableColumns(s), schemas.PartitionColumns(s)...)
	doc := prestoView{OriginalSQL: sel, Catalog: "awsdatacatalog", Schema: o.DatabaseName()}
	glueCols := make([]gluedef.Column, len(cols))
	for i, c := range cols {
		doc.Columns = append(doc.Columns, prestoViewColumn{Name: c.Name, Type: trinoType(c.Type)})
		glueCols[i] = gluedef.Column{Name: c.Name, Type: c.Type.AthenaName()}
	}
	js, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	text := viewTextPrefix + base64.StdEncoding.EncodeToString(js) + viewTextSuffix
	if len(text) > MaxViewTextLen {
		return nil, &schemas.DefinitionError{Table: s.Table, Err: fmt.Errorf(
			"%w: the view %s of %d columns has %d bytes of SQL, which Athena stores as %d bytes of view text, and Glue accepts %d (lower max_columns; the table itself is defined, and ddblake catalog sync --no-views leaves views alone)",
			ErrViewTooLong, schemas.LatestViewName(s.Table), len(cols), len(sel), len(text), MaxViewTextLen)}
	}
	return &gluedef.TableInput{
		Name:        schemas.LatestViewName(s.Table),
		Description: "current state of each item of " + s.Table + " (ddblake)",
		Parameters:  map[string]string{"presto_view": "true", "comment": "Presto View"},
		StorageDescriptor: &gluedef.StorageDescriptor{
			Columns:   glueCols,
			SerdeInfo: &gluedef.SerDeInfo{},
		},
		TableType:        viewType,
		ViewExpandedText: viewExpandedText,
		ViewOriginalText: text,
	}, nil
}

// ViewSQL returns the SELECT a view's ViewOriginalText holds, as ViewInput
// writes it.
func ViewSQL(viewOriginalText string) (string, error) {
	body, ok := strings.CutPrefix(viewOriginalText, viewTextPrefix)
	if body, ok2 := strings.CutSuffix(body, viewTextSuffix); ok && ok2 {
		js, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return "", err
		}
		var doc prestoView
		if err := json.Unmarshal(js, &doc); err != nil {
			return "", err
		}
		return doc.OriginalSQL, nil
	}
	return "", fmt.Errorf("not a view text of the form %q", viewTextPrefix+"..."+viewTextSuffix)
}

// trinoType spells an Athena column type as Trino (Athena's view engine)
// does in a view's column list.
func trinoType(t schemas.Type) string {
	switch t.Kind {
	case schemas.KindString, schemas.KindJSON:
		return "varchar"
	case schemas.KindBinary:
		return "varbinary"
	case schemas.KindTimestamp:
		return "timestamp(3)"
	case schemas.KindArray:
		return "array(" + trinoType(t.Leaf()) + ")"
	case schemas.KindMap:
		return "map(varchar, " + trinoType(t.Leaf()) + ")"
	}
	return t.String() // bigint, double, boolean, decimal(p,s)
}

// mergeView replaces a stored view whose text or columns differ from
// want's; a stored table of the name is foreign.
func mergeView(existing *gluedef.Table, want *gluedef.TableInput, _ time.Time, ch *Change) (*gluedef.TableInput, bool, error) {
	if existing.TableType != viewType {
		return nil, false, fmt.Errorf("%w: stored as %s, where ddblake defines a view: drop it (ddblake catalog sync then creates the view)",
			ErrForeignTable, existing.TableType)
	}
	var have []string
	if existing.StorageDescriptor != nil {
		for _, c := range existing.StorageDescriptor.Columns {
			have = append(have, c.Name+" "+c.Type)
		}
	}
	var wantCols []string
	for _, c := range want.StorageDescriptor.Columns {
		wantCols = append(wantCols, c.Name+" "+c.Type)
	}
	if existing.ViewOriginalText == want.ViewOriginalText && slices.Equal(have, wantCols) {
		return nil, false, nil
	}
	ch.Added = columnNames(want)
	return want, true, nil
}
