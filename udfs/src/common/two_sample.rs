//! The aggregate UDF shared by every two-sample function: `fn(value, flag [, constants...])`.
//!
//! Each function supplies its name, documentation, coercion and a factory for its statistic;
//! this type supplies the DataFusion plumbing (state layout, row and group accumulators) so the
//! functions only state what they compute.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Documentation, GroupsAccumulator, Signature,
    Volatility,
};

use super::categories::{CategoryCounts, CategoryStatistic};
use super::category_state::category_state_fields;
use super::group_states::StateAccumulator;
use super::sample_state::sample_state_fields;
use super::samples::{SampleStatistic, Samples};

pub(crate) type SampleFactory = fn(&AccumulatorArgs) -> Result<Arc<dyn SampleStatistic>>;
pub(crate) type CategoryFactory = fn(&AccumulatorArgs) -> Result<Arc<dyn CategoryStatistic>>;
pub(crate) type Coercion = fn(&[DataType]) -> Result<Vec<DataType>>;

#[derive(Debug)]
pub(crate) struct TwoSampleAggregate {
    pub name: &'static str,
    pub parameters: &'static [&'static str],
    pub return_type: DataType,
    pub coerce: Coercion,
    /// For Float64 values.
    pub numeric: Option<SampleFactory>,
    /// For Utf8 and Utf8View values (text and booleans are categories).
    pub categorical: Option<CategoryFactory>,
    pub documentation: Documentation,
}

impl TwoSampleAggregate {
    pub(crate) fn into_udaf(self) -> AggregateUDF {
        AggregateUDF::new_from_impl(Registered {
            signature: Signature::user_defined(Volatility::Immutable)
                .with_parameter_names(self.parameters.to_vec())
                .expect("parameter names are distinct constants"),
            aggregate: self,
        })
    }
}

#[derive(Debug)]
struct Registered {
    aggregate: TwoSampleAggregate,
    signature: Signature,
}

impl PartialEq for Registered {
    fn eq(&self, other: &Self) -> bool {
        self.aggregate.name == other.aggregate.name
    }
}

impl Eq for Registered {}

impl Hash for Registered {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.aggregate.name.hash(state);
    }
}

fn is_categorical(data_type: &DataType) -> bool {
    matches!(data_type, DataType::Utf8 | DataType::Utf8View)
}

impl Registered {
    fn numeric(&self, args: &AccumulatorArgs) -> Result<Arc<dyn SampleStatistic>> {
        match self.aggregate.numeric {
            Some(factory) => factory(args),
            None => plan_err!("{} does not take numeric values", self.aggregate.name),
        }
    }

    fn categorical(&self, args: &AccumulatorArgs) -> Result<Arc<dyn CategoryStatistic>> {
        match self.aggregate.categorical {
            Some(factory) => factory(args),
            None => plan_err!("{} does not take text values", self.aggregate.name),
        }
    }

    fn value_type<'a>(&self, args: &'a AccumulatorArgs) -> Option<&'a DataType> {
        args.expr_fields.first().map(|field| field.data_type())
    }
}

impl AggregateUDFImpl for Registered {
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
        let categorical = args
            .input_fields
            .first()
            .is_some_and(|field| is_categorical(field.data_type()));
        Ok(if categorical {
            category_state_fields(args.name)
        } else {
            sample_state_fields(args.name)
        })
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let name = self.aggregate.name;
        Ok(if self.value_type(&args).is_some_and(is_categorical) {
            Box::new(StateAccumulator::<CategoryCounts>::for_rows(
                name,
                self.categorical(&args)?,
            ))
        } else {
            Box::new(StateAccumulator::<Samples>::for_rows(
                name,
                self.numeric(&args)?,
            ))
        })
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        let name = self.aggregate.name;
        let return_type = self.aggregate.return_type.clone();
        Ok(if self.value_type(&args).is_some_and(is_categorical) {
            Box::new(StateAccumulator::<CategoryCounts>::for_groups(
                name,
                self.categorical(&args)?,
                return_type,
            ))
        } else {
            Box::new(StateAccumulator::<Samples>::for_groups(
                name,
                self.numeric(&args)?,
                return_type,
            ))
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.aggregate.documentation)
    }
}
