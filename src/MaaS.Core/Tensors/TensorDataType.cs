namespace MaaS.Core.Tensors;

#pragma warning disable CA1720 // the members mirror the protocol's datatype names (UINT8, INT64, ...)

/// <summary>The tensor element types of the Open Inference Protocol (PROTOCOL.md §2).</summary>
public enum TensorDataType
{
    Bool,
    UInt8,
    UInt16,
    UInt32,
    UInt64,
    Int8,
    Int16,
    Int32,
    Int64,
    Fp16,
    Fp32,
    Fp64,
    Bytes,
    Bf16,
}
#pragma warning restore CA1720
