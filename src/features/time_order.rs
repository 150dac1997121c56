//! Time-ordered grouping shared by the ASOF index and window aggregates: comparable time
//! values, rows grouped by key, and each group sorted by time.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Date64Type, Float32Type, Float64Type, Int64Type, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType,
};
use datafusion::arrow::row::{RowConverter, Rows, SortField};
use datafusion::error::{DataFusionError, Result};
use rayon::prelude::*;

use crate::error::{SqlError, sqlstate};

/// How a time column's values compare: instants (any timestamp unit or date, as nanoseconds
/// since the epoch), integers, or floating-point numbers (mapped to integers in the same order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeDomain {
    Instant,
    Integer,
    Float,
}

impl TimeDomain {
    pub fn of(data_type: &DataType) -> Result<Self> {
        Ok(match data_type {
            DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64 => Self::Instant,
            integer if integer.is_integer() => Self::Integer,
            float if float.is_floating() => Self::Float,
            other => {
                return Err(SqlError::new(
                    sqlstate::DATATYPE_MISMATCH,
                    format!(
                        "an ASOF match condition compares timestamps, dates or numbers, not {other}"
                    ),
                )
                .into_datafusion());
            }
        })
    }

    /// The domain both sides are compared in, or an error when they cannot be compared.
    pub fn common(left: &DataType, right: &DataType) -> Result<Self> {
        match (Self::of(left)?, Self::of(right)?) {
            (a, b) if a == b => Ok(a),
            (Self::Integer, Self::Float) | (Self::Float, Self::Integer) => Ok(Self::Float),
            _ => Err(SqlError::new(
                sqlstate::DATATYPE_MISMATCH,
                format!("an ASOF match condition cannot compare {left} with {right}"),
            )
            .into_datafusion()),
        }
    }
}

/// Nanoseconds in one unit of a timestamp.
fn nanos_per(unit: &TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => 1_000_000_000,
        TimeUnit::Millisecond => 1_000_000,
        TimeUnit::Microsecond => 1_000,
        TimeUnit::Nanosecond => 1,
    }
}

/// Maps a float to an integer with the same order (NaN has no place and becomes `None`).
fn ordered_float(value: f64) -> Option<i64> {
    if value.is_nan() {
        return None;
    }
    // -0.0 and 0.0 compare equal in SQL, so they must map to one key.
    let bits = (value + 0.0).to_bits() as i64;
    Some(if bits < 0 { bits ^ i64::MAX } else { bits })
}

/// The comparable values of a time column in `domain`; `None` where the row cannot match (NULL,
/// NaN, or a timestamp outside the nanosecond range).
pub fn time_values(array: &ArrayRef, domain: TimeDomain) -> Result<Vec<Option<i64>>> {
    fn collect<T: Copy>(
        values: impl Iterator<Item = Option<T>>,
        map: impl Fn(T) -> Option<i64>,
    ) -> Vec<Option<i64>> {
        values.map(|v| v.and_then(&map)).collect()
    }
    Ok(match (domain, array.data_type()) {
        (TimeDomain::Instant, DataType::Timestamp(unit, _)) => {
            let scale = nanos_per(unit);
            let scaled = move |v: i64| v.checked_mul(scale);
            match unit {
                TimeUnit::Second => {
                    collect(array.as_primitive::<TimestampSecondType>().iter(), scaled)
                }
                TimeUnit::Millisecond => collect(
                    array.as_primitive::<TimestampMillisecondType>().iter(),
                    scaled,
                ),
                TimeUnit::Microsecond => collect(
                    array.as_primitive::<TimestampMicrosecondType>().iter(),
                    scaled,
                ),
                TimeUnit::Nanosecond => collect(
                    array.as_primitive::<TimestampNanosecondType>().iter(),
                    scaled,
                ),
            }
        }
        (TimeDomain::Instant, DataType::Date32) => {
            collect(array.as_primitive::<Date32Type>().iter(), |days: i32| {
                i64::from(days).checked_mul(86_400_000_000_000)
            })
        }
        (TimeDomain::Instant, DataType::Date64) => {
            collect(array.as_primitive::<Date64Type>().iter(), |ms: i64| {
                ms.checked_mul(1_000_000)
            })
        }
        (TimeDomain::Integer, _) => {
            let integers = cast(array, &DataType::Int64)?;
            collect(integers.as_primitive::<Int64Type>().iter(), Some)
        }
        (TimeDomain::Float, DataType::Float32) => {
            collect(array.as_primitive::<Float32Type>().iter(), |v: f32| {
                ordered_float(f64::from(v))
            })
        }
        (TimeDomain::Float, _) => {
            let floats = cast(array, &DataType::Float64)?;
            collect(floats.as_primitive::<Float64Type>().iter(), ordered_float)
        }
        (domain, other) => {
            return Err(DataFusionError::Internal(format!(
                "ASOF time column of type {other} evaluated in the {domain:?} domain"
            )));
        }
    })
}

/// Keys are hashed millions of times per join; SipHash's DoS resistance buys nothing here.
type FastHash = foldhash::fast::RandomState;

/// Groups rows by their key columns: one integer column hashes as an integer, anything else
/// through arrow's row format.
#[derive(Debug)]
pub(crate) enum KeyGroups {
    None,
    Integer(HashMap<i64, u32, FastHash>),
    Rows {
        converter: RowConverter,
        types: Vec<DataType>,
        groups: HashMap<Box<[u8]>, u32, FastHash>,
    },
}

fn is_integer_key(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
    )
}

impl KeyGroups {
    pub(crate) fn new(keys: &[ArrayRef]) -> Result<Self> {
        Ok(match keys {
            [] => Self::None,
            [key] if is_integer_key(key.data_type()) => Self::Integer(HashMap::default()),
            keys => {
                let types: Vec<DataType> = keys.iter().map(|k| k.data_type().clone()).collect();
                Self::Rows {
                    converter: RowConverter::new(
                        types.iter().map(|t| SortField::new(t.clone())).collect(),
                    )?,
                    types,
                    groups: HashMap::default(),
                }
            }
        })
    }

    /// The group of each row, creating groups for keys not seen before (`None` where a key
    /// is NULL).
    pub(crate) fn insert(&mut self, keys: &[ArrayRef], rows: usize) -> Result<Vec<Option<u32>>> {
        match self {
            Self::None => Ok(vec![Some(0); rows]),
            Self::Integer(groups) => Ok(integer_keys(keys)?
                .iter()
                .map(|key| {
                    let next = groups.len() as u32;
                    key.map(|key| *groups.entry(key).or_insert(next))
                })
                .collect()),
            Self::Rows {
                converter,
                types,
                groups,
            } => each_key_row(converter, types, keys, rows, |bytes| {
                let next = groups.len() as u32;
                Some(match groups.get(bytes) {
                    Some(group) => *group,
                    None => *groups.entry(bytes.into()).or_insert(next),
                })
            }),
        }
    }

    /// The group of each row, `None` where a key is NULL or was never seen.
    pub(crate) fn lookup(&self, keys: &[ArrayRef], rows: usize) -> Result<Vec<Option<u32>>> {
        match self {
            Self::None => Ok(vec![Some(0); rows]),
            Self::Integer(groups) => Ok(integer_keys(keys)?
                .iter()
                .map(|key| key.and_then(|key| groups.get(&key).copied()))
                .collect()),
            Self::Rows {
                converter,
                types,
                groups,
            } => each_key_row(converter, types, keys, rows, |bytes| {
                groups.get(bytes).copied()
            }),
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Self::None => 1,
            Self::Integer(groups) => groups.len(),
            Self::Rows { groups, .. } => groups.len(),
        }
    }
}

fn integer_keys(keys: &[ArrayRef]) -> Result<Vec<Option<i64>>> {
    let integers = cast(&keys[0], &DataType::Int64)?;
    Ok(integers.as_primitive::<Int64Type>().iter().collect())
}

/// Encodes key columns in arrow's row format, casting each to the type the index was built
/// with (the planner has already coerced both sides to one type; this guards the rest).
/// `group(bytes)` for each row's encoded key, `None` where a key column is NULL.
fn each_key_row(
    converter: &RowConverter,
    types: &[DataType],
    keys: &[ArrayRef],
    rows: usize,
    mut group: impl FnMut(&[u8]) -> Option<u32>,
) -> Result<Vec<Option<u32>>> {
    let encoded = encode_rows(converter, types, keys)?;
    Ok((0..rows)
        .map(|row| {
            if keys.iter().any(|k| k.is_null(row)) {
                None
            } else {
                group(encoded.row(row).as_ref())
            }
        })
        .collect())
}

fn encode_rows(converter: &RowConverter, types: &[DataType], keys: &[ArrayRef]) -> Result<Rows> {
    let keys = keys
        .iter()
        .zip(types)
        .map(|(key, data_type)| {
            if key.data_type() == data_type {
                Ok(Arc::clone(key))
            } else {
                cast(key, data_type)
            }
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(converter.convert_columns(&keys)?)
}

/// Rows grouped by key, each group in time order: group `g` is `order[starts[g]..starts[g + 1]]`,
/// with the rows' times alongside in `times`. Rows with a NULL key or time are left out.
pub(crate) struct TimeOrder {
    pub keys: KeyGroups,
    pub starts: Vec<usize>,
    pub order: Vec<u32>,
    pub times: Vec<i64>,
}

impl TimeOrder {
    /// Orders rows by (key group, time, `tie`, row number).
    pub(crate) fn build(
        keys: &[ArrayRef],
        times: &[Option<i64>],
        tie: impl Fn(u32, u32) -> Ordering + Sync,
    ) -> Result<Self> {
        if times.len() > u32::MAX as usize {
            return Err(SqlError::new(
                sqlstate::PROGRAM_LIMIT_EXCEEDED,
                "a time-ordered index holds at most 4294967295 rows",
            )
            .into_datafusion());
        }
        let mut groups = KeyGroups::new(keys)?;
        let group_of = groups.insert(keys, times.len())?;
        let group_count = groups.len();
        let mut starts = vec![0usize; group_count + 1];
        for (group, time) in group_of.iter().zip(times) {
            if let (Some(group), Some(_)) = (group, time) {
                starts[*group as usize + 1] += 1;
            }
        }
        for g in 0..group_count {
            starts[g + 1] += starts[g];
        }
        // (time, row) pairs side by side, so sorting reads contiguous memory.
        let mut fill = starts.clone();
        let mut entries = vec![(0i64, 0u32); starts[group_count]];
        for (row, (group, time)) in group_of.iter().zip(times).enumerate() {
            if let (Some(group), Some(time)) = (group, time) {
                let at = &mut fill[*group as usize];
                entries[*at] = (*time, row as u32);
                *at += 1;
            }
        }
        let mut slices = Vec::with_capacity(group_count);
        let mut rest = entries.as_mut_slice();
        for g in 0..group_count {
            let (group, tail) = rest.split_at_mut(starts[g + 1] - starts[g]);
            slices.push(group);
            rest = tail;
        }
        slices.into_par_iter().for_each(|group| {
            group.sort_unstable_by(|a, b| {
                a.0.cmp(&b.0)
                    .then_with(|| tie(a.1, b.1))
                    .then(a.1.cmp(&b.1))
            })
        });
        let (times, order) = entries.into_iter().unzip();
        Ok(Self {
            keys: groups,
            starts,
            order,
            times,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Float64Array;

    #[test]
    fn floats_and_instants_compare_in_order() {
        let floats: ArrayRef =
            Arc::new(Float64Array::from(vec![-2.5, -0.0, 0.0, 1e-300, f64::NAN]));
        let values = time_values(&floats, TimeDomain::Float).unwrap();
        assert!(values[0] < values[1] && values[1] == values[2] && values[2] < values[3]);
        assert_eq!(values[4], None);
        assert_eq!(
            TimeDomain::common(&DataType::Int32, &DataType::Float64).unwrap(),
            TimeDomain::Float
        );
        assert!(TimeDomain::common(&DataType::Utf8, &DataType::Utf8).is_err());
    }
}
