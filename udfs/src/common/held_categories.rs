//! Whole batches of categories of one sample each, held by `CategoryCounts` until enough have
//! arrived to count them in halves on two threads.

use datafusion::arrow::array::{StringArray, StringViewArray};

use super::categories::Categories;

/// A batch of categories without NULLs, all in sample `side`.
#[derive(Debug, Clone)]
pub(super) struct HeldBatch {
    column: HeldColumn,
    pub(super) side: usize,
}

#[derive(Debug, Clone)]
enum HeldColumn {
    Views(StringViewArray),
    Strings(StringArray),
}

impl HeldBatch {
    pub(super) fn new(categories: Categories, side: usize) -> Self {
        let column = match categories {
            Categories::Views(views) => HeldColumn::Views(views.clone()),
            Categories::Strings(strings) => HeldColumn::Strings(strings.clone()),
        };
        Self { column, side }
    }

    pub(super) fn categories(&self) -> Categories<'_> {
        self.column.categories()
    }
}

impl HeldColumn {
    fn categories(&self) -> Categories<'_> {
        match self {
            Self::Views(views) => Categories::Views(views),
            Self::Strings(strings) => Categories::Strings(strings),
        }
    }

    fn slice(&self, offset: usize, length: usize) -> Self {
        match self {
            Self::Views(views) => Self::Views(views.slice(offset, length)),
            Self::Strings(strings) => Self::Strings(strings.slice(offset, length)),
        }
    }
}

/// `batches` split after `rows` rows.
pub(super) fn split_after(
    batches: Vec<HeldBatch>,
    rows: usize,
) -> (Vec<HeldBatch>, Vec<HeldBatch>) {
    let (mut first, mut second) = (Vec::new(), Vec::new());
    let mut seen = 0;
    for batch in batches {
        let length = batch.categories().array().len();
        let split = rows.saturating_sub(seen).min(length);
        seen += length;
        if split > 0 {
            first.push(HeldBatch {
                column: batch.column.slice(0, split),
                side: batch.side,
            });
        }
        if split < length {
            second.push(HeldBatch {
                column: batch.column.slice(split, length - split),
                side: batch.side,
            });
        }
    }
    (first, second)
}
