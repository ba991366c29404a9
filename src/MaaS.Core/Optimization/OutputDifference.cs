using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace MaaS.Core.Optimization;

/// <summary>
/// How one output of the optimised model differs from the source's, accumulated over the validation inputs. A row is
/// one vector along the last axis (a rank-0 or rank-1 output is one row); cosine is taken per row; top-1 agreement is
/// counted where the output has a class axis: floating point, rank 2 (rows x scores, as a classifier answers), last dim
/// above 1 (argmax per row). A rank-3 or larger output (a sequence's hidden states, a feature map) has no class axis
/// the server can name, and no top-1 figure. Values NaN in both models count as equal; NaN in one only makes the figures NaN, which no bound accepts.
/// </summary>
internal sealed class OutputDifference
{
    private double _maxAbs;
    private double _sumAbs;
    private long _elements;
    private double _minCosine = 1;
    private long _rows;
    private long _agreeing;
    private bool _classAxis = true;

    /// <summary>Adds one run's output of both models; throws <see cref="ServingException"/> (422) when their shapes or types differ.</summary>
    public void Add(string name, OrtValue source, OrtValue candidate)
    {
        var sourceInfo = source.GetTensorTypeAndShape();
        var candidateInfo = candidate.GetTensorTypeAndShape();
        if (!sourceInfo.Shape.AsSpan().SequenceEqual(candidateInfo.Shape) || sourceInfo.ElementDataType != candidateInfo.ElementDataType)
        {
            throw new ServingException(
                FailureKind.Unprocessable,
                $"output '{name}' of the optimised model is {candidateInfo.ElementDataType} [{string.Join(',', candidateInfo.Shape)}] where the source's is {sourceInfo.ElementDataType} [{string.Join(',', sourceInfo.Shape)}]; nothing was kept");
        }

        var shape = sourceInfo.Shape;
        var expected = ToDoubles(source, sourceInfo.ElementDataType);
        var actual = ToDoubles(candidate, candidateInfo.ElementDataType);
        var rowLength = shape.Length == 0 ? 1 : (int)Math.Max(shape[^1], 1);
        _classAxis &= IsFloat(sourceInfo.ElementDataType) && shape.Length == 2 && shape[^1] > 1;
        for (var start = 0; start < expected.Length; start += rowLength)
        {
            AddRow(expected.AsSpan(start, rowLength), actual.AsSpan(start, rowLength));
        }
    }

    public AccuracyFigures Figures() => new(
        _maxAbs,
        _elements == 0 ? 0 : _sumAbs / _elements,
        _minCosine,
        _classAxis && _rows > 0 ? (double)_agreeing / _rows : null);

    /// <summary>The worst over every output: max of max_abs_diff, mean of mean_abs_diff, min of min_cosine and of top1_agreement.</summary>
    public static AccuracyFigures Worst(IReadOnlyCollection<AccuracyFigures> outputs)
    {
        var top1 = outputs.Where(figures => figures.Top1Agreement is not null).Select(figures => figures.Top1Agreement!.Value).ToList();
        return outputs.Count == 0
            ? new AccuracyFigures(0, 0, 1, null)
            : new AccuracyFigures(
                outputs.Select(figures => figures.MaxAbsDiff).Aggregate(double.MinValue, MaxOrNaN),
                outputs.Average(figures => figures.MeanAbsDiff),
                outputs.Select(figures => figures.MinCosine).Aggregate(double.MaxValue, MinOrNaN),
                top1.Count == 0 ? null : top1.Min());
    }

    private static double MaxOrNaN(double a, double b) => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : Math.Max(a, b);

    private static double MinOrNaN(double a, double b) => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : Math.Min(a, b);

    private void AddRow(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual)
    {
        double dot = 0, expectedNorm = 0, actualNorm = 0;
        var expectedTop = 0;
        var actualTop = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            var (e, a) = (expected[i], actual[i]);
            var diff = double.IsNaN(e) && double.IsNaN(a) ? 0 : Math.Abs(e - a);
            _maxAbs = MaxOrNaN(_maxAbs, diff);
            _sumAbs += diff;
            if (!double.IsNaN(e) || !double.IsNaN(a))
            {
                dot += e * a;
                expectedNorm += e * e;
                actualNorm += a * a;
            }

            expectedTop = e > expected[expectedTop] ? i : expectedTop;
            actualTop = a > actual[actualTop] ? i : actualTop;
        }

        _elements += expected.Length;
        var cosine = expectedNorm == 0 && actualNorm == 0 ? 1 : expectedNorm == 0 || actualNorm == 0 ? 0 : dot / Math.Sqrt(expectedNorm * actualNorm);
        _minCosine = MinOrNaN(_minCosine, Math.Min(cosine, 1));
        _rows++;
        _agreeing += expectedTop == actualTop ? 1 : 0;
    }

    private static bool IsFloat(TensorElementType type) =>
        type is TensorElementType.Float or TensorElementType.Double or TensorElementType.Float16 or TensorElementType.BFloat16;

    /// <summary>The output's elements as doubles (BOOL as 0/1); a string output cannot be compared numerically (422).</summary>
    private static double[] ToDoubles(OrtValue value, TensorElementType type) => type switch
    {
        TensorElementType.Float => Convert(value.GetTensorDataAsSpan<float>(), x => x),
        TensorElementType.Double => value.GetTensorDataAsSpan<double>().ToArray(),
        TensorElementType.Float16 => Convert(value.GetTensorDataAsSpan<ushort>(), bits => Tensors.HalfPrecision.FromFloat16Bits(bits)),
        TensorElementType.BFloat16 => Convert(value.GetTensorDataAsSpan<ushort>(), bits => Tensors.HalfPrecision.FromBFloat16Bits(bits)),
        TensorElementType.Int8 => Convert(value.GetTensorDataAsSpan<sbyte>(), x => x),
        TensorElementType.UInt8 or TensorElementType.Bool => Convert(value.GetTensorDataAsSpan<byte>(), x => x),
        TensorElementType.Int16 => Convert(value.GetTensorDataAsSpan<short>(), x => x),
        TensorElementType.UInt16 => Convert(value.GetTensorDataAsSpan<ushort>(), x => x),
        TensorElementType.Int32 => Convert(value.GetTensorDataAsSpan<int>(), x => x),
        TensorElementType.UInt32 => Convert(value.GetTensorDataAsSpan<uint>(), x => x),
        TensorElementType.Int64 => Convert(value.GetTensorDataAsSpan<long>(), x => x),
        TensorElementType.UInt64 => Convert(value.GetTensorDataAsSpan<ulong>(), x => x),
        _ => throw new ServingException(FailureKind.Unprocessable, $"an output of element type {type} cannot be compared numerically; optimise a model whose outputs are numbers"),
    };

    private static double[] Convert<T>(ReadOnlySpan<T> values, Func<T, double> convert)
        where T : unmanaged
    {
        var result = new double[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            result[i] = convert(values[i]);
        }

        return result;
    }
}
