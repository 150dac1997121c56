//! The right side of an ASOF join, indexed for lookups: rows grouped by their join keys, each
//! group sorted by time. A probe is a hash lookup and a binary search, so the left side streams
//! through in its own order and the right side is read once, however many left partitions ask.

use std::cmp::Ordering;
use std::collections::HashMap;

use rayon::prelude::*;
use std::sync::Arc;

use datafusion::arrow::array::make_comparator;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, new_null_array};
use datafusion::arrow::compute::{
    LexicographicalComparator, SortColumn, SortOptions, cast, interleave,
};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Date64Type, Float32Type, Float64Type, Int64Type, SchemaRef, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType,
};
use datafusion::arrow::row::{RowConverter, Rows, SortField};
use datafusion::error::{DataFusionError, Result};

use super::AsofOp;
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
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64 => Self::Integer,
            DataType::Float16 | DataType::Float32 | DataType::Float64 => Self::Float,
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

/// What counts as a match beyond the keys and the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd)]
pub struct MatchRule {
    pub op: AsofOp,
    /// Only right rows with `time > left time - ttl` match (nanoseconds; instants only).
    pub ttl: Option<i64>,
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
            } => {
                let encoded = encode_rows(converter, types, keys)?;
                Ok((0..rows)
                    .map(|row| {
                        if keys.iter().any(|k| k.is_null(row)) {
                            return None;
                        }
                        let next = groups.len() as u32;
                        let bytes = encoded.row(row);
                        Some(match groups.get(bytes.as_ref()) {
                            Some(group) => *group,
                            None => *groups.entry(bytes.as_ref().into()).or_insert(next),
                        })
                    })
                    .collect())
            }
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
            } => {
                let encoded = encode_rows(converter, types, keys)?;
                Ok((0..rows)
                    .map(|row| {
                        if keys.iter().any(|k| k.is_null(row)) {
                            return None;
                        }
                        groups.get(encoded.row(row).as_ref()).copied()
                    })
                    .collect())
            }
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

/// The indexed right side.
#[derive(Debug)]
pub struct AsofIndex {
    /// Every right row, in one batch, so matches are gathered with one `take` per column.
    batch: RecordBatch,
    keys: KeyGroups,
    /// Group `g`'s entries are `times[starts[g]..starts[g + 1]]`, ascending.
    starts: Vec<usize>,
    times: Vec<i64>,
    rows: Vec<u32>,
    /// The creation time of each entry, when rows become visible only once created.
    created: Option<Vec<Option<i64>>>,
    rule: MatchRule,
}

/// The right side's columns as evaluated for indexing.
pub struct RightColumns {
    pub batch: RecordBatch,
    pub keys: Vec<ArrayRef>,
    pub times: Vec<Option<i64>>,
    pub created: Option<Vec<Option<i64>>>,
}

impl AsofIndex {
    /// Indexes the right rows. Among rows with equal keys and equal time, the one whose columns
    /// (compared in order, NULLs first) sort last wins, so the result never depends on the order
    /// the rows were read in.
    pub fn build(right: RightColumns, rule: MatchRule) -> Result<Self> {
        let columns: Vec<SortColumn> = right
            .batch
            .columns()
            .iter()
            .map(|values| SortColumn {
                values: Arc::clone(values),
                options: None,
            })
            .collect();
        // Columns arrow cannot compare (nested types) fall back to the read order.
        let tie_break = LexicographicalComparator::try_new(&columns).ok();
        let TimeOrder {
            keys,
            starts,
            order,
            times,
        } = TimeOrder::build(&right.keys, &right.times, |a, b| match &tie_break {
            Some(comparator) => comparator.compare(a as usize, b as usize),
            None => Ordering::Equal,
        })?;
        let created = right
            .created
            .map(|created| order.iter().map(|&row| created[row as usize]).collect());
        Ok(Self {
            batch: right.batch,
            keys,
            starts,
            times,
            rows: order,
            created,
            rule,
        })
    }

    /// The time and row of each left row's match, `None` where there is none.
    pub fn matches(
        &self,
        keys: &[ArrayRef],
        times: &[Option<i64>],
    ) -> Result<Vec<Option<(i64, u32)>>> {
        let groups = self.keys.lookup(keys, times.len())?;
        Ok(groups
            .iter()
            .zip(times)
            .map(|(group, time)| match (group, time) {
                (Some(group), Some(time)) => self.find(*group as usize, *time),
                _ => None,
            })
            .collect())
    }

    /// The entry of `group` that `time` matches under the rule, as (time, row). A row with a
    /// creation time is visible only to left times at or after it.
    fn find(&self, group: usize, time: i64) -> Option<(i64, u32)> {
        let range = self.starts[group]..self.starts[group + 1];
        let times = &self.times[range.clone()];
        let entry = match self.rule.op {
            AsofOp::Ge | AsofOp::Gt => {
                // The last entry at or before (before, for >) the left time that is visible.
                let end = match self.rule.op {
                    AsofOp::Ge => times.partition_point(|&t| t <= time),
                    _ => times.partition_point(|&t| t < time),
                };
                let oldest = self.rule.ttl.map(|ttl| time.saturating_sub(ttl));
                let visible = |i: usize| {
                    self.created
                        .as_ref()
                        .is_none_or(|c| c[range.start + i].is_some_and(|c| c <= time))
                };
                (0..end)
                    .rev()
                    .take_while(|&i| oldest.is_none_or(|oldest| times[i] > oldest))
                    .find(|&i| visible(i))?
            }
            AsofOp::Le | AsofOp::Lt => {
                // The first time at or after (after, for <) the left time; of its ties, the last.
                let first = match self.rule.op {
                    AsofOp::Le => times.partition_point(|&t| t < time),
                    _ => times.partition_point(|&t| t <= time),
                };
                let found = *times.get(first)?;
                times.partition_point(|&t| t <= found) - 1
            }
        };
        Some((times[entry], self.rows[range.start + entry]))
    }
}

/// The right side indexed one input partition at a time (each built on its own thread). A
/// left row's match is the best of the partitions' matches: the nearest time, and of equal
/// times the row that sorts last, as within one index.
#[derive(Debug)]
pub struct PartitionedIndex {
    parts: Vec<AsofIndex>,
    /// One NULL row per right column, gathered where a left row has no match.
    nulls: Vec<ArrayRef>,
    op: AsofOp,
}

impl PartitionedIndex {
    pub fn new(parts: Vec<AsofIndex>, schema: &SchemaRef, op: AsofOp) -> Self {
        let nulls = schema
            .fields()
            .iter()
            .map(|f| new_null_array(f.data_type(), 1))
            .collect();
        Self { parts, nulls, op }
    }

    pub fn rows(&self) -> usize {
        self.parts.iter().map(|p| p.batch.num_rows()).sum()
    }

    /// Orders two rows of different partitions by their columns, as the tie-break does.
    fn row_order(&self, (a, row_a): (usize, u32), (b, row_b): (usize, u32)) -> Ordering {
        let (batch_a, batch_b) = (&self.parts[a].batch, &self.parts[b].batch);
        for (column_a, column_b) in batch_a.columns().iter().zip(batch_b.columns()) {
            let Ok(compare) = make_comparator(column_a, column_b, SortOptions::default()) else {
                return Ordering::Equal;
            };
            match compare(row_a as usize, row_b as usize) {
                Ordering::Equal => continue,
                other => return other,
            }
        }
        Ordering::Equal
    }

    /// The right columns `columns` (by position) matched to each left row, NULL where there
    /// is none.
    pub fn probe(
        &self,
        keys: &[ArrayRef],
        times: &[Option<i64>],
        columns: &[usize],
    ) -> Result<Vec<ArrayRef>> {
        let per_part = self
            .parts
            .iter()
            .map(|part| part.matches(keys, times))
            .collect::<Result<Vec<_>>>()?;
        let missing = (self.parts.len(), 0);
        let chosen: Vec<(usize, usize)> = (0..times.len())
            .map(|row| {
                let mut best: Option<(usize, i64, u32)> = None;
                for (part, matches) in per_part.iter().enumerate() {
                    let Some((time, found)) = matches[row] else {
                        continue;
                    };
                    best = match best {
                        None => Some((part, time, found)),
                        Some((best_part, best_time, best_row)) => {
                            let nearer = match self.op {
                                AsofOp::Ge | AsofOp::Gt => time.cmp(&best_time),
                                AsofOp::Le | AsofOp::Lt => best_time.cmp(&time),
                            };
                            let wins = nearer
                                .then_with(|| self.row_order((part, found), (best_part, best_row)));
                            if wins == Ordering::Greater {
                                Some((part, time, found))
                            } else {
                                Some((best_part, best_time, best_row))
                            }
                        }
                    };
                }
                best.map_or(missing, |(part, _, found)| (part, found as usize))
            })
            .collect();
        columns
            .iter()
            .map(|&column| {
                let mut sources: Vec<&dyn Array> = self
                    .parts
                    .iter()
                    .map(|p| p.batch.column(column).as_ref())
                    .collect();
                sources.push(self.nulls[column].as_ref());
                Ok(interleave(&sources, &chosen)?)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Float64Array, Int64Array, StringArray};
    use datafusion::arrow::datatypes::{Field, Schema};

    fn right(keys: Vec<Option<i64>>, times: Vec<Option<i64>>, values: Vec<f64>) -> RightColumns {
        let key: ArrayRef = Arc::new(Int64Array::from(keys));
        let value: ArrayRef = Arc::new(Float64Array::from(values));
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Int64, true),
            Field::new("v", DataType::Float64, false),
        ]));
        RightColumns {
            batch: RecordBatch::try_new(schema, vec![Arc::clone(&key), value]).unwrap(),
            keys: vec![key],
            times,
            created: None,
        }
    }

    fn probe(index: &AsofIndex, key: i64, time: i64) -> Option<u32> {
        let keys: Vec<ArrayRef> = vec![Arc::new(Int64Array::from(vec![key]))];
        index.matches(&keys, &[Some(time)]).unwrap()[0].map(|(_, row)| row)
    }

    #[test]
    fn each_operator_picks_the_nearest_time_on_its_side() {
        let data = || {
            right(
                vec![Some(1), Some(1), Some(1), Some(2), None],
                vec![Some(10), Some(30), Some(20), Some(20), Some(20)],
                vec![0.0, 1.0, 2.0, 3.0, 4.0],
            )
        };
        let rule = |op| MatchRule { op, ttl: None };
        let ge = AsofIndex::build(data(), rule(AsofOp::Ge)).unwrap();
        assert_eq!(probe(&ge, 1, 20), Some(2));
        assert_eq!(probe(&ge, 1, 25), Some(2));
        assert_eq!(probe(&ge, 1, 9), None);
        assert_eq!(probe(&ge, 3, 20), None);
        let gt = AsofIndex::build(data(), rule(AsofOp::Gt)).unwrap();
        assert_eq!(probe(&gt, 1, 20), Some(0));
        let le = AsofIndex::build(data(), rule(AsofOp::Le)).unwrap();
        assert_eq!(probe(&le, 1, 20), Some(2));
        assert_eq!(probe(&le, 1, 31), None);
        let lt = AsofIndex::build(data(), rule(AsofOp::Lt)).unwrap();
        assert_eq!(probe(&lt, 1, 20), Some(1));
    }

    #[test]
    fn equal_times_resolve_to_the_row_that_sorts_last_whatever_the_read_order() {
        for values in [vec![5.0, 7.0, 6.0], vec![7.0, 6.0, 5.0]] {
            let winner = values.iter().position(|&v| v == 7.0).unwrap() as u32;
            for op in [AsofOp::Ge, AsofOp::Le] {
                let index = AsofIndex::build(
                    right(vec![Some(1); 3], vec![Some(10); 3], values.clone()),
                    MatchRule { op, ttl: None },
                )
                .unwrap();
                assert_eq!(probe(&index, 1, 10), Some(winner), "{op:?}");
            }
        }
    }

    #[test]
    fn ttl_and_creation_time_hide_rows() {
        let mut data = right(
            vec![Some(1); 3],
            vec![Some(10), Some(20), Some(30)],
            vec![0.0, 1.0, 2.0],
        );
        // The row at time 20 was only created at 100 (a late backfill).
        data.created = Some(vec![Some(10), Some(100), Some(30)]);
        let index = AsofIndex::build(
            data,
            MatchRule {
                op: AsofOp::Ge,
                ttl: Some(15),
            },
        )
        .unwrap();
        let keys: Vec<ArrayRef> = vec![Arc::new(Int64Array::from(vec![1, 1, 1, 1]))];
        let times = [Some(25), Some(24), Some(120), Some(35)];
        let found: Vec<Option<u32>> = index
            .matches(&keys, &times)
            .unwrap()
            .into_iter()
            .map(|m| m.map(|(_, row)| row))
            .collect();
        // At 25 the row at 20 is not yet created and the row at 10 is 15 old: expired. At 24
        // the row at 10 is 14 old. At 120 the row at 30 is 90 old: expired.
        assert_eq!(found, vec![None, Some(0), None, Some(2)]);
    }

    #[test]
    fn text_and_multiple_keys_group_through_the_row_format() {
        let k1: ArrayRef = Arc::new(Int64Array::from(vec![1, 1]));
        let k2: ArrayRef = Arc::new(StringArray::from(vec!["a", "b"]));
        let schema = Arc::new(Schema::new(vec![
            Field::new("k1", DataType::Int64, false),
            Field::new("k2", DataType::Utf8, false),
        ]));
        let batch = RecordBatch::try_new(schema, vec![Arc::clone(&k1), Arc::clone(&k2)]).unwrap();
        let index = AsofIndex::build(
            RightColumns {
                batch,
                keys: vec![k1, k2],
                times: vec![Some(1), Some(1)],
                created: None,
            },
            MatchRule {
                op: AsofOp::Ge,
                ttl: None,
            },
        )
        .unwrap();
        let keys: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(vec![1, 1, 2])),
            Arc::new(StringArray::from(vec![Some("b"), None, Some("a")])),
        ];
        let found: Vec<Option<u32>> = index
            .matches(&keys, &[Some(5), Some(5), Some(5)])
            .unwrap()
            .into_iter()
            .map(|m| m.map(|(_, row)| row))
            .collect();
        assert_eq!(found, vec![Some(1), None, None]);
    }

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
