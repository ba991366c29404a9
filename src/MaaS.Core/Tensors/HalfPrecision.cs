namespace MaaS.Core.Tensors;

/// <summary>Conversions for the 16-bit float types: BF16 is the high half of an FP32's bits (rounded to nearest even).</summary>
internal static class HalfPrecision
{
    public static ushort ToBFloat16Bits(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            return (ushort)((bits >> 16) | 0x40);
        }

        var rounding = 0x7FFFu + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    public static float FromBFloat16Bits(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    public static float FromFloat16Bits(ushort bits) => (float)BitConverter.UInt16BitsToHalf(bits);
}
