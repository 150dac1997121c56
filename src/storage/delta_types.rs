//! Which Arrow types a durable table can hold, and the Delta-compatible form of each.
//!
//! Delta stores timestamps in microseconds, either zone-less (`timestamp_ntz`) or as UTC instants,
//! and has no unsigned integers: values are converted once at CREATE TABLE, so the table's schema
//! says exactly what will be read back.

use std::sync::Arc;

use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::Result;

use crate::error::{SqlError, sqlstate};

/// The schema a durable table will have for the given input schema.
pub fn delta_schema(schema: &Schema) -> std::result::Result<SchemaRef, SqlError> {
    let fields = schema
        .fields()
        .iter()
        .map(delta_field)
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(Arc::new(Schema::new(fields)))
}

fn delta_field(field: &FieldRef) -> std::result::Result<FieldRef, SqlError> {
    let data_type = delta_type(field.name(), field.data_type())?;
    // An untyped NULL column has no Delta type; it is stored as nullable text.
    let nullable = field.is_nullable() || field.data_type() == &DataType::Null;
    Ok(Arc::new(
        Field::new(field.name(), data_type, nullable).with_metadata(field.metadata().clone()),
    ))
}

fn delta_type(column: &str, data_type: &DataType) -> std::result::Result<DataType, SqlError> {
    use DataType::*;
    Ok(match data_type {
        Boolean | Int8 | Int16 | Int32 | Int64 | Float32 | Float64 | Date32 | Utf8 | Binary => {
            data_type.clone()
        }
        UInt8 => Int16,
        UInt16 => Int32,
        UInt32 | UInt64 => Int64,
        Float16 => Float32,
        Date64 => Date32,
        Utf8View | LargeUtf8 | Null => Utf8,
        BinaryView | LargeBinary | FixedSizeBinary(_) => Binary,
        Decimal32(p, s) | Decimal64(p, s) | Decimal128(p, s) if *s >= 0 => Decimal128(*p, *s),
        Timestamp(_, None) => Timestamp(TimeUnit::Microsecond, None),
        Timestamp(_, Some(_)) => Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        Dictionary(_, value) => delta_type(column, value)?,
        List(item) | LargeList(item) | ListView(item) | LargeListView(item) => {
            List(delta_field(item)?)
        }
        FixedSizeList(item, _) => List(delta_field(item)?),
        Struct(fields) => Struct(
            fields
                .iter()
                .map(delta_field)
                .collect::<std::result::Result<Vec<_>, _>>()?
                .into(),
        ),
        other => {
            return Err(SqlError::new(
                sqlstate::FEATURE_NOT_SUPPORTED,
                format!(
                    "column \"{column}\" has type {other}, which durable tables cannot store; \
                     cast it to text, a number or a timestamp"
                ),
            ));
        }
    })
}

/// Casts a batch to the (Delta-compatible) target schema, column by column.
pub fn conform_batch(batch: &RecordBatch, target: &SchemaRef) -> Result<RecordBatch> {
    let columns = batch
        .columns()
        .iter()
        .zip(target.fields())
        .map(|(column, field)| cast(column, field.data_type()))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(RecordBatch::try_new(Arc::clone(target), columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, TimestampMicrosecondArray, TimestampNanosecondArray};

    #[test]
    fn timestamps_become_microseconds_and_zoned_ones_utc() {
        let schema = Schema::new(vec![
            Field::new(
                "plain",
                DataType::Timestamp(TimeUnit::Nanosecond, None),
                true,
            ),
            Field::new(
                "zoned",
                DataType::Timestamp(TimeUnit::Nanosecond, Some("+00:00".into())),
                false,
            ),
        ]);
        let converted = delta_schema(&schema).unwrap();
        assert_eq!(
            converted.field(0).data_type(),
            &DataType::Timestamp(TimeUnit::Microsecond, None)
        );
        assert_eq!(
            converted.field(1).data_type(),
            &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        );
        assert!(!converted.field(1).is_nullable());
    }

    #[test]
    fn unsupported_types_name_the_column() {
        let schema = Schema::new(vec![Field::new(
            "span",
            DataType::Interval(datafusion::arrow::datatypes::IntervalUnit::MonthDayNano),
            true,
        )]);
        let err = delta_schema(&schema).unwrap_err();
        assert_eq!(err.code, sqlstate::FEATURE_NOT_SUPPORTED);
        assert!(err.message.contains("\"span\""), "{}", err.message);
    }

    #[test]
    fn batches_are_cast_to_the_table_types() {
        let nanos = TimestampNanosecondArray::from(vec![Some(1_500_000_123), None]);
        let source = Arc::new(Schema::new(vec![Field::new(
            "t",
            DataType::Timestamp(TimeUnit::Nanosecond, None),
            true,
        )]));
        let batch = RecordBatch::try_new(source.clone(), vec![Arc::new(nanos)]).unwrap();
        let target = delta_schema(&source).unwrap();
        let converted = conform_batch(&batch, &target).unwrap();
        let micros = converted
            .column(0)
            .as_any()
            .downcast_ref::<TimestampMicrosecondArray>()
            .unwrap();
        assert_eq!(micros.value(0), 1_500_000);
        assert!(micros.is_null(1));
    }
}
