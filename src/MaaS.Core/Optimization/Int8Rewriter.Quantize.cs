using System.Globalization;
using MaaS.Core.Optimization.Onnx;

namespace MaaS.Core.Optimization;

internal sealed partial class Int8Rewriter
{
    private const float Int8Max = 127f;

    // MatMul weights use ±63 instead of ±127 where the CPU's int8 dot product can saturate (see Int8Transform).
    private float MatMulLevels => _sevenBitWeights ? 63f : Int8Max;

    /// <summary>
    /// The weight as a [K, N] int8 matrix with one symmetric scale per output column N (scale = max|w| / 127, or / 63 with
    /// seven-bit weights; zero point 0): <paramref name="transpose"/> reads a [N, K] weight (Gemm's transB), <paramref name="alpha"/> is folded in.
    /// Quantised once per weight and form, however many nodes read it. Null when a value is not finite.
    /// </summary>
    private QuantizedWeight? QuantizeColumns(TensorProto weight, bool transpose, float alpha)
    {
        var key = string.Create(CultureInfo.InvariantCulture, $"{weight.Name}\ncolumns {transpose} {alpha:R}");
        if (_quantized.TryGetValue(key, out var cached))
        {
            return cached;
        }

        var values = OnnxTensors.ReadFloats(weight);
        var (rows, columns) = transpose ? ((int)weight.Dims[1], (int)weight.Dims[0]) : ((int)weight.Dims[0], (int)weight.Dims[1]);
        var scales = new float[columns];
        for (var k = 0; k < rows; k++)
        {
            for (var n = 0; n < columns; n++)
            {
                scales[n] = Math.Max(scales[n], Math.Abs(alpha * values[transpose ? n * rows + k : k * columns + n]));
            }
        }

        if (!FinishScales(scales, MatMulLevels))
        {
            return null;
        }

        var quantized = new sbyte[rows * columns];
        for (var k = 0; k < rows; k++)
        {
            for (var n = 0; n < columns; n++)
            {
                quantized[k * columns + n] = ToInt8(alpha * values[transpose ? n * rows + k : k * columns + n], scales[n], MatMulLevels);
            }
        }

        return Store(key, weight.Name, [rows, columns], quantized, scales, [columns]);
    }

    /// <summary>An embedding table as int8 rows with one symmetric scale per row, the scales shaped [rows, 1] to broadcast after a gather.</summary>
    private QuantizedWeight? QuantizeRows(TensorProto table)
    {
        var key = table.Name + "\nrows";
        if (_quantized.TryGetValue(key, out var cached))
        {
            return cached;
        }

        var values = OnnxTensors.ReadFloats(table);
        var (rows, columns) = ((int)table.Dims[0], (int)table.Dims[1]);
        var scales = new float[rows];
        for (var v = 0; v < rows; v++)
        {
            for (var d = 0; d < columns; d++)
            {
                scales[v] = Math.Max(scales[v], Math.Abs(values[v * columns + d]));
            }
        }

        if (!FinishScales(scales, Int8Max))
        {
            return null;
        }

        var quantized = new sbyte[rows * columns];
        for (var v = 0; v < rows; v++)
        {
            for (var d = 0; d < columns; d++)
            {
                quantized[v * columns + d] = ToInt8(values[v * columns + d], scales[v], Int8Max);
            }
        }

        return Store(key, table.Name, [rows, columns], quantized, scales, [rows, 1]);
    }

    /// <summary>Turns each channel's max |w| into its scale; false when one is not finite (NaN or infinite weights).</summary>
    private static bool FinishScales(float[] scales, float levels)
    {
        for (var i = 0; i < scales.Length; i++)
        {
            if (!float.IsFinite(scales[i]))
            {
                return false;
            }

            // An all-zero channel quantises to zeros whatever its scale; 1 keeps the division defined.
            scales[i] = scales[i] == 0f ? 1f : scales[i] / levels;
        }

        return true;
    }

    private static sbyte ToInt8(float value, float scale, float levels) => (sbyte)Math.Clamp(MathF.Round(value / scale), -levels, levels);

    private QuantizedWeight Store(string key, string source, long[] dims, sbyte[] values, float[] scales, long[] scaleDims)
    {
        var weight = new QuantizedWeight(_names.Fresh(source + "_int8"), _names.Fresh(source + "_scale"), _names.Fresh(source + "_zero_point"));
        _graph.Initializer.Add(OnnxTensors.Make<sbyte>(weight.Values, OnnxTensors.Int8, dims, values));
        _graph.Initializer.Add(OnnxTensors.Make<float>(weight.Scales, OnnxTensors.Float, scaleDims, scales));
        if (scaleDims.Length == 1)
        {
            // Per-column zero points (all 0: symmetric), typed int8 so the kernels take the signed-weight path.
            _graph.Initializer.Add(OnnxTensors.Make<sbyte>(weight.ZeroPoints, OnnxTensors.Int8, scaleDims, new sbyte[scales.Length]));
        }

        _quantized[key] = weight;
        _touched.Add(source);
        return weight;
    }
}
