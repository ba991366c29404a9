using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using MaaS.Core.Tensors;

namespace MaaS.Core.Inference;

/// <summary>
/// The classification extension: replaces an output by its top k classes per batch item, as BYTES elements
/// "value:index" or "value:index:label", ranked by descending value. Values are formatted as Triton does
/// (C++ std::to_string: six decimals for floats, plain integers otherwise).
/// </summary>
internal static class Classifier
{
    public static bool Supports(TensorDataType type) =>
        type is not (TensorDataType.Bool or TensorDataType.Bytes or TensorDataType.Fp16 or TensorDataType.Bf16);

    /// <summary>Classifies <paramref name="data"/> (row-major, shape <paramref name="shape"/>) and returns the serialized BYTES tensor and its shape.</summary>
    public static (TensorBuffer Data, long[] Shape) Classify(
        TensorDataType type, ReadOnlySpan<byte> data, long[] shape, bool batched, int classCount, IReadOnlyList<string>? labels)
    {
        var count = data.Length / type.ElementSize();
        var items = batched && shape.Length > 0 ? (int)shape[0] : 1;
        var perItem = items == 0 ? 0 : count / items;
        var k = Math.Min(classCount, perItem);
        var values = new double[perItem];
        var order = new int[perItem];
        var text = new StringBuilder();
        var serialized = new List<byte[]>(items * k);
        for (var item = 0; item < items; item++)
        {
            for (var i = 0; i < perItem; i++)
            {
                values[i] = Read(type, data, (item * perItem) + i);
                order[i] = i;
            }

            // Stable: equal values keep index order.
            Array.Sort(order, (a, b) => values[b].CompareTo(values[a]) is var c && c != 0 ? c : a.CompareTo(b));
            for (var rank = 0; rank < k; rank++)
            {
                var index = order[rank];
                text.Clear();
                AppendValue(text, type, data, (item * perItem) + index);
                text.Append(':').Append(index.ToString(CultureInfo.InvariantCulture));
                if (labels is not null && index < labels.Count)
                {
                    text.Append(':').Append(labels[index]);
                }

                serialized.Add(Encoding.UTF8.GetBytes(text.ToString()));
            }
        }

        var buffer = TensorBuffer.Rent(serialized.Sum(element => 4 + element.Length));
        var offset = 0;
        foreach (var element in serialized)
        {
            offset += BytesElements.Write(buffer.Span[offset..], element);
        }

        return (buffer, batched && shape.Length > 0 ? [items, k] : [k]);
    }

    /// <summary>Formats the element from its own type, so 64-bit integers keep every digit (ranking uses doubles).</summary>
    private static void AppendValue(StringBuilder text, TensorDataType type, ReadOnlySpan<byte> data, int index)
    {
        var invariant = CultureInfo.InvariantCulture;
        switch (type)
        {
            case TensorDataType.Fp32 or TensorDataType.Fp64:
                text.Append(Read(type, data, index).ToString("F6", invariant));
                break;
            case TensorDataType.UInt64:
                text.Append(MemoryMarshal.Cast<byte, ulong>(data)[index].ToString(invariant));
                break;
            case TensorDataType.Int64:
                text.Append(MemoryMarshal.Cast<byte, long>(data)[index].ToString(invariant));
                break;
            default:
                text.Append(((long)Read(type, data, index)).ToString(invariant));
                break;
        }
    }

    private static double Read(TensorDataType type, ReadOnlySpan<byte> data, int index) => type switch
    {
        TensorDataType.UInt8 => data[index],
        TensorDataType.Int8 => (sbyte)data[index],
        TensorDataType.UInt16 => MemoryMarshal.Cast<byte, ushort>(data)[index],
        TensorDataType.Int16 => MemoryMarshal.Cast<byte, short>(data)[index],
        TensorDataType.UInt32 => MemoryMarshal.Cast<byte, uint>(data)[index],
        TensorDataType.Int32 => MemoryMarshal.Cast<byte, int>(data)[index],
        TensorDataType.UInt64 => MemoryMarshal.Cast<byte, ulong>(data)[index],
        TensorDataType.Int64 => MemoryMarshal.Cast<byte, long>(data)[index],
        TensorDataType.Fp32 => MemoryMarshal.Cast<byte, float>(data)[index],
        TensorDataType.Fp64 => MemoryMarshal.Cast<byte, double>(data)[index],
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not classifiable"),
    };
}
