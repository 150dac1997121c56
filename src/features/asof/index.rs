//! The right side of an ASOF join, indexed for lookups: rows grouped by their join keys, each
//! group sorted by time. A probe is a hash lookup and a binary search, so the left side streams
//! through in its own order and the right side is read once, however many left partitions ask.

use std::cmp::Ordering;
use std::sync::Arc;

use datafusion::arrow::array::make_comparator;
use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, new_null_array};
use datafusion::arrow::compute::{LexicographicalComparator, SortColumn, SortOptions, interleave};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::Result;

use super::AsofOp;
use crate::features::time_order::{KeyGroups, TimeOrder};

/// What counts as a match beyond the keys and the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd)]
pub struct MatchRule {
    pub op: AsofOp,
    /// Only right rows with `time > left time - ttl` match (nanoseconds; instants only).
    pub ttl: Option<i64>,
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
    use datafusion::arrow::datatypes::DataType;
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
}
