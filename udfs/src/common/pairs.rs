//! The aggregate UDF shared by the functions whose state is a few running sums over row pairs
//! (error metrics, confusion counts, per-arm moments).
//!
//! A kernel turns each input batch into two Float64 columns, folds each row pair into a
//! fixed-size `[f64]` state and knows how to merge two states, so the row and group accumulators
//! below serve every such function with a flat, allocation-free state per group.

use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::mem::size_of;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{Result, ScalarValue, internal_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Documentation, EmitTo, GroupsAccumulator,
    Signature, Volatility,
};

use super::group_states::{scalars_to_array, selected};

pub(crate) trait PairKernel: std::fmt::Debug + Send + Sync + Sized + 'static {
    /// Names of the state slots.
    const STATE: &'static [&'static str];

    /// Builds the kernel from the call's constant arguments.
    fn from_arguments(args: &AccumulatorArgs) -> Result<Self>;
    /// The batch as two Float64 columns; a row with a NULL in either is skipped.
    fn columns(&self, args: &[ArrayRef]) -> Result<(Float64Array, Float64Array)>;
    fn update(&self, state: &mut [f64], x: f64, y: f64) -> Result<()>;
    fn merge(&self, state: &mut [f64], other: &[f64]);
    fn evaluate(&self, state: &[f64]) -> Result<ScalarValue>;
}

pub(crate) struct PairAggregate<K> {
    pub name: &'static str,
    pub parameters: &'static [&'static str],
    pub return_type: DataType,
    pub coerce: fn(&[DataType]) -> Result<Vec<DataType>>,
    pub documentation: Documentation,
    pub kernel: PhantomData<K>,
}

impl<K: PairKernel> PairAggregate<K> {
    pub(crate) fn into_udaf(self) -> AggregateUDF {
        AggregateUDF::new_from_impl(RegisteredPairs {
            signature: Signature::user_defined(Volatility::Immutable)
                .with_parameter_names(self.parameters.to_vec())
                .expect("parameter names are distinct constants"),
            aggregate: self,
        })
    }
}

struct RegisteredPairs<K> {
    aggregate: PairAggregate<K>,
    signature: Signature,
}

impl<K> std::fmt::Debug for RegisteredPairs<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PairAggregate")
            .field("name", &self.aggregate.name)
            .finish()
    }
}

impl<K> PartialEq for RegisteredPairs<K> {
    fn eq(&self, other: &Self) -> bool {
        self.aggregate.name == other.aggregate.name
    }
}

impl<K> Eq for RegisteredPairs<K> {}

impl<K> Hash for RegisteredPairs<K> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.aggregate.name.hash(state);
    }
}

impl<K: PairKernel> AggregateUDFImpl for RegisteredPairs<K> {
    fn name(&self) -> &str {
        self.aggregate.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        (self.aggregate.coerce)(arg_types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.aggregate.return_type.clone())
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(K::STATE
            .iter()
            .map(|slot| {
                Arc::new(Field::new(
                    format!("{}[{slot}]", args.name),
                    DataType::Float64,
                    false,
                ))
            })
            .collect())
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(PairAccumulator {
            kernel: K::from_arguments(&args)?,
            state: vec![0.0; K::STATE.len()],
        }))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(PairGroupsAccumulator {
            kernel: K::from_arguments(&args)?,
            return_type: self.aggregate.return_type.clone(),
            states: Vec::new(),
        }))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.aggregate.documentation)
    }
}

fn fold_rows<K: PairKernel>(
    kernel: &K,
    values: &[ArrayRef],
    filter: Option<&BooleanArray>,
    mut state_of: impl FnMut(usize) -> usize,
    states: &mut [f64],
) -> Result<()> {
    let width = K::STATE.len();
    let (xs, ys) = kernel.columns(values)?;
    for row in 0..xs.len() {
        if xs.is_null(row) || ys.is_null(row) {
            continue;
        }
        if !selected(filter, row) {
            continue;
        }
        let start = state_of(row) * width;
        kernel.update(
            &mut states[start..start + width],
            xs.value(row),
            ys.value(row),
        )?;
    }
    Ok(())
}

fn merge_states<K: PairKernel>(
    kernel: &K,
    partials: &[ArrayRef],
    mut state_of: impl FnMut(usize) -> usize,
    states: &mut [f64],
) -> Result<()> {
    let width = K::STATE.len();
    if partials.len() != width {
        return internal_err!("state has {} columns, expected {width}", partials.len());
    }
    let columns: Vec<&Float64Array> = partials
        .iter()
        .map(|column| column.as_primitive::<Float64Type>())
        .collect();
    let rows = columns.first().map_or(0, |column| column.len());
    let mut partial = vec![0.0; width];
    for row in 0..rows {
        for (slot, column) in partial.iter_mut().zip(&columns) {
            *slot = column.value(row);
        }
        let start = state_of(row) * width;
        kernel.merge(&mut states[start..start + width], &partial);
    }
    Ok(())
}

#[derive(Debug)]
struct PairAccumulator<K> {
    kernel: K,
    state: Vec<f64>,
}

impl<K: PairKernel> Accumulator for PairAccumulator<K> {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        fold_rows(&self.kernel, values, None, |_| 0, &mut self.state)
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        merge_states(&self.kernel, states, |_| 0, &mut self.state)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(self
            .state
            .iter()
            .map(|&slot| ScalarValue::Float64(Some(slot)))
            .collect())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        self.kernel.evaluate(&self.state)
    }

    fn size(&self) -> usize {
        size_of::<Self>() + self.state.capacity() * size_of::<f64>()
    }
}

#[derive(Debug)]
struct PairGroupsAccumulator<K> {
    kernel: K,
    return_type: DataType,
    /// Group g's state is `states[g·width .. (g+1)·width]`.
    states: Vec<f64>,
}

impl<K: PairKernel> PairGroupsAccumulator<K> {
    fn take_groups(&mut self, emit_to: EmitTo) -> Vec<f64> {
        let width = K::STATE.len();
        match emit_to {
            EmitTo::All => std::mem::take(&mut self.states),
            EmitTo::First(groups) => {
                let rest = self.states.split_off(groups * width);
                std::mem::replace(&mut self.states, rest)
            }
        }
    }
}

impl<K: PairKernel> GroupsAccumulator for PairGroupsAccumulator<K> {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.states.resize(total_num_groups * K::STATE.len(), 0.0);
        fold_rows(
            &self.kernel,
            values,
            opt_filter,
            |row| group_indices[row],
            &mut self.states,
        )
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.states.resize(total_num_groups * K::STATE.len(), 0.0);
        merge_states(
            &self.kernel,
            values,
            |row| group_indices[row],
            &mut self.states,
        )
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let states = self.take_groups(emit_to);
        let results = states
            .chunks_exact(K::STATE.len())
            .map(|state| self.kernel.evaluate(state))
            .collect::<Result<Vec<_>>>()?;
        scalars_to_array(results, &self.return_type)
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let states = self.take_groups(emit_to);
        Ok(columns_of::<K>(&states))
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let mut states = vec![0.0; values[0].len() * K::STATE.len()];
        fold_rows(&self.kernel, values, opt_filter, |row| row, &mut states)?;
        Ok(columns_of::<K>(&states))
    }

    fn size(&self) -> usize {
        size_of::<Self>() + self.states.capacity() * size_of::<f64>()
    }
}

/// Flat per-group states as one Float64 column per state slot.
fn columns_of<K: PairKernel>(states: &[f64]) -> Vec<ArrayRef> {
    let width = K::STATE.len();
    (0..width)
        .map(|slot| {
            let column: Float64Array = states
                .chunks_exact(width)
                .map(|state| state[slot])
                .collect::<Vec<_>>()
                .into();
            Arc::new(column) as ArrayRef
        })
        .collect()
}

/// Adds each slot of `other` to `state`: the merge of states made of plain sums.
pub(crate) fn add_states(state: &mut [f64], other: &[f64]) {
    for (slot, partial) in state.iter_mut().zip(other) {
        *slot += partial;
    }
}

/// Booleans as 1.0 / 0.0, NULL kept.
pub(crate) fn indicator_column(flags: &BooleanArray) -> Float64Array {
    flags.iter().map(|flag| flag.map(f64::from)).collect()
}

/// Running moments `[count, shift, Σ(x − shift), Σ(x − shift)²]` at `offset`, the shift being the
/// first value seen. Summing deviations from a value inside the data keeps full precision when
/// the data sit far from zero (values around 10⁶ with unit spread), where plain sums or
/// incremental means lose digits that scipy's two-pass computation keeps.
pub(crate) fn moments_update(state: &mut [f64], offset: usize, value: f64) {
    if state[offset] == 0.0 {
        state[offset + 1] = value;
    }
    let deviation = value - state[offset + 1];
    state[offset] += 1.0;
    state[offset + 2] += deviation;
    state[offset + 3] += deviation * deviation;
}

/// Adds the moments `other[offset..]` to `state[offset..]`, re-centring them on this shift.
pub(crate) fn moments_merge(state: &mut [f64], other: &[f64], offset: usize) {
    let count = other[offset];
    if count == 0.0 {
        return;
    }
    if state[offset] == 0.0 {
        state[offset..offset + 4].copy_from_slice(&other[offset..offset + 4]);
        return;
    }
    let delta = other[offset + 1] - state[offset + 1];
    state[offset] += count;
    state[offset + 2] += other[offset + 2] + count * delta;
    state[offset + 3] +=
        other[offset + 3] + 2.0 * delta * other[offset + 2] + count * delta * delta;
}

/// (count, shift, mean − shift, sum of squared deviations from the mean).
pub(crate) fn moments(state: &[f64], offset: usize) -> (f64, f64, f64, f64) {
    let count = state[offset];
    let centred_mean = state[offset + 2] / count;
    let m2 = (state[offset + 3] - state[offset + 2] * centred_mean).max(0.0);
    (count, state[offset + 1], centred_mean, m2)
}
