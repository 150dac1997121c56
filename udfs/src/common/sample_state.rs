//! The partial state of the two-sample aggregates: per group and sample, its values as a list of
//! pieces.
//!
//! A piece is one `BinaryView` element of native-endian doubles. A long piece is a view of the
//! very buffer the sample holds, usually the input batch's own, so a partition hands its
//! samples to the final aggregate without copying a value, and the final aggregate holds them
//! as it holds its own input. Short pieces (the values of small groups) are copied into shared
//! blocks, so that a state of many groups does not carry a buffer per group.

use std::mem::{align_of, size_of};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayBuilder, ArrayRef, AsArray, BinaryViewArray, BinaryViewBuilder, ByteView, ListArray,
};
use datafusion::arrow::buffer::{OffsetBuffer, ScalarBuffer};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, ToByteSlice};
use datafusion::common::{Result, internal_datafusion_err, internal_err};

use super::sample::Sample;
use super::samples::Samples;

/// A view's length is a `u32` count of bytes, so longer pieces take several views.
const MAX_VIEW_VALUES: usize = 1 << 28;
/// Pieces shorter than this are copied into shared blocks rather than given a block each.
const OWN_BLOCK_FROM: usize = 1024;
/// A view this long or shorter holds its bytes itself (Arrow's inline views).
const MAX_INLINE_BYTES: usize = 12;

/// Per sample the list of its pieces.
pub(crate) fn sample_state_fields(name: &str) -> Vec<FieldRef> {
    ["reference", "current"]
        .into_iter()
        .map(|sample| {
            let pieces = Field::new_list_field(DataType::BinaryView, true);
            let list = DataType::List(Arc::new(pieces));
            Arc::new(Field::new(format!("{name}[{sample}]"), list, true))
        })
        .collect()
}

/// The state of `groups`, one row each, in the layout of [`sample_state_fields`].
pub(crate) fn samples_state(groups: Vec<Samples>) -> Result<Vec<ArrayRef>> {
    let (reference, current): (Vec<_>, Vec<_>) = groups
        .into_iter()
        .map(|samples| (samples.reference, samples.current))
        .unzip();
    Ok(vec![pieces_list(reference)?, pieces_list(current)?])
}

/// One list of pieces per sample.
fn pieces_list(samples: Vec<Sample>) -> Result<ArrayRef> {
    let mut pieces = BinaryViewBuilder::new();
    let mut lengths = Vec::with_capacity(samples.len());
    for sample in samples {
        let before = pieces.len();
        for piece in sample.into_pieces() {
            append_piece(&mut pieces, piece)?;
        }
        lengths.push(pieces.len() - before);
    }
    Ok(Arc::new(ListArray::new(
        Arc::new(Field::new_list_field(DataType::BinaryView, true)),
        OffsetBuffer::from_lengths(lengths),
        Arc::new(pieces.finish()),
        None,
    )))
}

fn append_piece(pieces: &mut BinaryViewBuilder, piece: ScalarBuffer<f64>) -> Result<()> {
    if piece.len() < OWN_BLOCK_FROM {
        pieces.append_value(piece.to_byte_slice());
        return Ok(());
    }
    for start in (0..piece.len()).step_by(MAX_VIEW_VALUES) {
        let part = piece.slice(start, MAX_VIEW_VALUES.min(piece.len() - start));
        let bytes = part.len() * size_of::<f64>();
        let block = pieces.append_block(part.into_inner());
        pieces.try_append_view(block, 0, bytes as u32)?;
    }
    Ok(())
}

/// Adds the partial samples in `states` (as written by [`samples_state`]) row by row to
/// `groups[target(row)]`.
pub(crate) fn merge_samples_state(
    states: &[ArrayRef],
    target: impl Fn(usize) -> usize,
    groups: &mut [Samples],
) -> Result<()> {
    let [reference, current] = states else {
        return internal_err!("two-sample state must have two columns");
    };
    let (reference, current) = (pieces_list_of(reference)?, pieces_list_of(current)?);
    for row in 0..reference.len() {
        let group = &mut groups[target(row)];
        for (pieces, sample) in [
            (reference, &mut group.reference),
            (current, &mut group.current),
        ] {
            if pieces.is_valid(row) {
                for piece in pieces_of(pieces, row)? {
                    sample.append(piece);
                }
            }
        }
    }
    Ok(())
}

fn pieces_list_of(column: &ArrayRef) -> Result<&ListArray> {
    column
        .as_list_opt::<i32>()
        .ok_or_else(|| internal_datafusion_err!("two-sample state columns must be lists"))
}

/// The pieces in row `row` of a list of pieces.
fn pieces_of(list: &ListArray, row: usize) -> Result<Vec<ScalarBuffer<f64>>> {
    let Some(views) = list.values().as_binary_view_opt() else {
        return internal_err!("two-sample pieces must be binary views");
    };
    let offsets = list.value_offsets();
    (offsets[row] as usize..offsets[row + 1] as usize)
        .filter(|&index| views.is_valid(index))
        .map(|index| piece_at(views, index))
        .collect()
}

/// One piece: the viewed buffer itself when it is long and aligned, else a copy.
fn piece_at(views: &BinaryViewArray, index: usize) -> Result<ScalarBuffer<f64>> {
    let view = ByteView::from(views.views()[index]);
    let length = view.length as usize;
    if length > MAX_INLINE_BYTES
        && let Some(buffer) = views.data_buffers().get(view.buffer_index as usize)
        && view.offset as usize + length <= buffer.len()
    {
        let bytes = buffer.slice_with_length(view.offset as usize, length);
        if bytes.as_ptr().align_offset(align_of::<f64>()) == 0
            && length.is_multiple_of(size_of::<f64>())
        {
            return Ok(ScalarBuffer::new(bytes, 0, length / size_of::<f64>()));
        }
    }
    let bytes = views.value(index);
    let (doubles, rest) = bytes.as_chunks::<8>();
    if !rest.is_empty() {
        return internal_err!(
            "a sample piece of {} bytes is not whole doubles",
            bytes.len()
        );
    }
    Ok(doubles
        .iter()
        .map(|double| f64::from_ne_bytes(*double))
        .collect::<Vec<_>>()
        .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buffer(values: impl IntoIterator<Item = f64>) -> ScalarBuffer<f64> {
        ScalarBuffer::from(values.into_iter().collect::<Vec<_>>())
    }

    fn held(pieces: &[ScalarBuffer<f64>]) -> Sample {
        let mut sample = Sample::default();
        for piece in pieces {
            sample.append(piece.clone());
        }
        sample
    }

    fn sorted_values(sample: &mut Sample) -> Vec<f64> {
        let mut values = sample.values_mut().clone();
        values.sort_by(f64::total_cmp);
        values
    }

    #[test]
    fn long_pieces_travel_as_views_of_the_buffers_they_arrived_in() {
        let batch = buffer((0..OWN_BLOCK_FROM).map(|i| i as f64));
        let samples = Samples {
            reference: held(std::slice::from_ref(&batch)),
            current: Sample::default(),
        };
        let state = samples_state(vec![samples]).unwrap();
        let views = state[0].as_list::<i32>().values().as_binary_view().clone();
        assert_eq!(views.data_buffers()[0].as_ptr(), batch.inner().as_ptr());
        let mut merged = vec![Samples::default()];
        merge_samples_state(&state, |_| 0, &mut merged).unwrap();
        let pieces: Vec<_> = merged[0].reference.pieces().map(<[f64]>::as_ptr).collect();
        assert_eq!(pieces[0], batch.as_ptr());
        assert!(merged[0].current.is_empty());
    }

    #[test]
    fn every_piece_size_and_group_comes_back() {
        // one value (an inline view), a few (a shared block), and long pieces
        let pieces = [
            buffer([7.5]),
            buffer([-1.0, 2.0, -0.0]),
            buffer((0..OWN_BLOCK_FROM + 3).map(|i| i as f64 * 0.5)),
            buffer((0..9000).map(|i| 1e6 - i as f64)),
        ];
        let mut groups = Vec::new();
        for size in 0..=pieces.len() {
            let mut samples = Samples {
                reference: held(&pieces[..size]),
                current: held(&pieces[size..]),
            };
            samples.current.push(-3.25);
            groups.push(samples);
        }
        let expected: Vec<_> = groups
            .iter()
            .map(|samples| {
                let mut samples = samples.clone();
                [
                    sorted_values(&mut samples.reference),
                    sorted_values(&mut samples.current),
                ]
            })
            .collect();
        let state = samples_state(groups).unwrap();
        // merged twice into the groups in reverse order: every value twice
        let mut merged = vec![Samples::default(); expected.len()];
        let last = expected.len() - 1;
        for _ in 0..2 {
            merge_samples_state(&state, |row| last - row, &mut merged).unwrap();
        }
        for (row, [reference, current]) in expected.into_iter().enumerate() {
            let group = &mut merged[last - row];
            for (sample, mut values) in [
                (&mut group.reference, reference),
                (&mut group.current, current),
            ] {
                values = values.iter().flat_map(|&v| [v, v]).collect();
                assert_eq!(sorted_values(sample), values, "group {row}");
            }
        }
    }

    #[test]
    fn a_misaligned_piece_is_copied() {
        let bytes: Vec<u8> = [1.5f64, -2.5, 4.0]
            .iter()
            .flat_map(|value| value.to_ne_bytes())
            .collect();
        let mut padded = vec![0u8];
        padded.extend_from_slice(&bytes);
        let mut builder = BinaryViewBuilder::new();
        let block = builder.append_block(padded.into());
        builder
            .try_append_view(block, 1, bytes.len() as u32)
            .unwrap();
        let views = builder.finish();
        assert_eq!(&piece_at(&views, 0).unwrap()[..], [1.5, -2.5, 4.0]);
    }
}
