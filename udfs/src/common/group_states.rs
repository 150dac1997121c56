//! One row accumulator and one group accumulator for every per-group state that is folded from
//! input rows, merged from partial states and evaluated by a statistic: the two samples of
//! `samples.rs` and the category counts of `categories.rs`.

use std::mem::size_of;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, new_empty_array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{Accumulator, EmitTo, GroupsAccumulator};

pub(crate) trait GroupState:
    Default + Clone + std::fmt::Debug + Send + Sync + 'static
{
    type Statistic: ?Sized + std::fmt::Debug + Send + Sync;

    /// Folds every usable input row into `groups[group_of(row)]`.
    fn fold_rows(
        function: &str,
        values: &[ArrayRef],
        filter: Option<&BooleanArray>,
        groups: &mut [Self],
        group_of: impl Fn(usize) -> usize,
    ) -> Result<()>;

    /// Folds every usable input row into one group (an aggregate without GROUP BY).
    fn fold_all(function: &str, values: &[ArrayRef], group: &mut Self) -> Result<()> {
        Self::fold_rows(function, values, None, std::slice::from_mut(group), |_| 0)
    }

    /// Adds the partial states (as written by `into_state`) row by row to `groups[group_of(row)]`.
    fn merge_states(
        function: &str,
        states: &[ArrayRef],
        groups: &mut [Self],
        group_of: impl Fn(usize) -> usize,
    ) -> Result<()>;

    /// The states of `groups`, one row each, in the layout of the aggregate's state fields.
    fn into_state(groups: Vec<Self>) -> Result<Vec<ArrayRef>>;

    /// The statistic of the group; `function` names it in errors.
    fn evaluate(&mut self, function: &str, statistic: &Self::Statistic) -> Result<ScalarValue>;

    /// Heap bytes held.
    fn bytes(&self) -> usize;
}

/// Whether row `row` passes an aggregate's `FILTER (WHERE ...)` clause (a NULL does not).
pub(crate) fn selected(filter: Option<&BooleanArray>, row: usize) -> bool {
    filter.is_none_or(|filter| filter.is_valid(row) && filter.value(row))
}

/// Builds an array of `data_type` from scalars, empty when there are none.
pub(crate) fn scalars_to_array(values: Vec<ScalarValue>, data_type: &DataType) -> Result<ArrayRef> {
    if values.is_empty() {
        Ok(new_empty_array(data_type))
    } else {
        ScalarValue::iter_to_array(values)
    }
}

/// As a row [`Accumulator`] it holds exactly one group; as a [`GroupsAccumulator`], one per group.
#[derive(Debug)]
pub(crate) struct StateAccumulator<S: GroupState> {
    function: &'static str,
    statistic: Arc<S::Statistic>,
    return_type: DataType,
    groups: Vec<S>,
}

impl<S: GroupState> StateAccumulator<S> {
    pub(crate) fn for_rows(function: &'static str, statistic: Arc<S::Statistic>) -> Self {
        Self {
            function,
            statistic,
            return_type: DataType::Null,
            groups: vec![S::default()],
        }
    }

    pub(crate) fn for_groups(
        function: &'static str,
        statistic: Arc<S::Statistic>,
        return_type: DataType,
    ) -> Self {
        Self {
            function,
            statistic,
            return_type,
            groups: Vec::new(),
        }
    }
}

impl<S: GroupState> Accumulator for StateAccumulator<S> {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        S::fold_all(self.function, values, &mut self.groups[0])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        S::merge_states(self.function, states, &mut self.groups, |_| 0)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        S::into_state(std::mem::take(&mut self.groups))?
            .iter()
            .map(|array| ScalarValue::try_from_array(array, 0))
            .collect()
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        self.groups[0].evaluate(self.function, &self.statistic)
    }

    fn size(&self) -> usize {
        size_of::<Self>() + self.groups.iter().map(S::bytes).sum::<usize>()
    }
}

impl<S: GroupState> GroupsAccumulator for StateAccumulator<S> {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.groups.resize_with(total_num_groups, S::default);
        S::fold_rows(self.function, values, opt_filter, &mut self.groups, |row| {
            group_indices[row]
        })
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.groups.resize_with(total_num_groups, S::default);
        S::merge_states(self.function, values, &mut self.groups, |row| {
            group_indices[row]
        })
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let results = emit_to
            .take_needed(&mut self.groups)
            .iter_mut()
            .map(|group| group.evaluate(self.function, &self.statistic))
            .collect::<Result<Vec<_>>>()?;
        scalars_to_array(results, &self.return_type)
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        S::into_state(emit_to.take_needed(&mut self.groups))
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let mut rows = vec![S::default(); values[0].len()];
        S::fold_rows(self.function, values, opt_filter, &mut rows, |row| row)?;
        S::into_state(rows)
    }

    fn size(&self) -> usize {
        size_of::<Self>()
            + self.groups.capacity() * size_of::<S>()
            + self.groups.iter().map(S::bytes).sum::<usize>()
    }
}
