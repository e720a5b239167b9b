package schemas_test

import (
	"fmt"

	"github.com/ddblake/ddblake/schemas"
)

func ExampleLatestViewDDL() {
	s := schemas.NewSchema("orders")
	s.Keys = []string{"orderId"}
	_, _ = s.Add(schemas.Column{Name: "order_id", Path: "orderId", Type: schemas.String, Source: "S"})
	_, _ = s.Add(schemas.Column{Name: "total", Path: "total", Type: schemas.Decimal(12, 2), Source: "N"})

	view, err := schemas.LatestViewDDL(s, schemas.Options{Database: "shop"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(view)
	// Output:
	// CREATE OR REPLACE VIEW "shop"."orders_latest" AS
	// SELECT
	//   "_event_name",
	//   "_event_id",
	//   "_event_time",
	//   "_sequence_number",
	//   "_ttl_delete",
	//   "_extra",
	//   "_old_image",
	//   "order_id",
	//   "total",
	//   "dt"
	// FROM (
	//   SELECT
	//     *,
	//     row_number() OVER (
	//       PARTITION BY "order_id"
	//       ORDER BY "_event_time" DESC NULLS LAST, "_sequence_number" DESC NULLS LAST
	//     ) AS "_latest_rank"
	//   FROM "shop"."orders"
	// ) AS "ranked"
	// WHERE "_latest_rank" = 1
	//   AND "_event_name" <> 'REMOVE'
}

func ExampleAddColumnsDDL() {
	older := schemas.NewSchema("orders")
	_, _ = older.Add(schemas.Column{Name: "order_id", Path: "orderId", Type: schemas.String})
	newer := older.Clone()
	_, _ = newer.Add(schemas.Column{Name: "coupon_code", Path: "coupon.code", Type: schemas.String})

	ddl, err := schemas.AddColumnsDDL(older, newer, schemas.Options{Database: "shop"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ddl)
	// Output:
	// ALTER TABLE `shop`.`orders` ADD COLUMNS (
	//   `coupon_code` string COMMENT 'coupon.code'
	// )
}
