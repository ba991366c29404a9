using System.Runtime.InteropServices;
using MaaS.Core.Tensors;

namespace MaaS.Core.Tests;

public sealed class TensorBufferTests
{
    [Fact]
    public void BorrowOrCopy_AlignedSlice_UsesTheBytesInPlace()
    {
        var body = new byte[64];
        using var buffer = TensorBuffer.BorrowOrCopy(body.AsMemory(16, 32), elementSize: 8);

        body[16] = 42;

        buffer.Span[0].Should().Be(42, "the tensor reads the body itself, no copy");
        MemoryMarshal.TryGetArray<byte>(buffer.Memory, out var segment).Should().BeTrue();
        segment.Array.Should().BeSameAs(body);
        segment.Offset.Should().Be(16);
        buffer.Length.Should().Be(32);
    }

    [Fact]
    public void BorrowOrCopy_MisalignedSlice_CopiesOnce()
    {
        var body = Enumerable.Range(0, 64).Select(i => (byte)i).ToArray();
        using var buffer = TensorBuffer.BorrowOrCopy(body.AsMemory(13, 16), elementSize: 4);

        body[13] = 200;

        buffer.Span.ToArray().Should().Equal(Enumerable.Range(13, 16).Select(i => (byte)i), "a misaligned slice is copied, so later changes do not show");
    }

    [Fact]
    public void BorrowOrCopy_SingleByteElements_AreAlwaysInPlace()
    {
        var body = new byte[10];
        using var buffer = TensorBuffer.BorrowOrCopy(body.AsMemory(3, 5), elementSize: 1);

        MemoryMarshal.TryGetArray<byte>(buffer.Memory, out var segment).Should().BeTrue();
        segment.Array.Should().BeSameAs(body);
    }
}
