using System.Runtime.CompilerServices;
using Native.Map.Core;
using Native.Map.Tests.Support;
using NUnit.Framework;

namespace Native.Map.Tests.Internal;

public sealed class LayoutAndSizingTests : LeakCheckedTest
{
    [Test]
    public void Header_Is48Bytes_LikeGoHmap() => Assert.That(Unsafe.SizeOf<MapHeader>(), Is.EqualTo(48));

    [Test]
    public void Layout_LongLong_MatchesGoBmap()
    {
        NativeMapLayout l = NativeMapLayout.Of<long, long>();
        Assert.That(l, Is.EqualTo(new NativeMapLayout(144, 0, 8, 72, 136, 8, 8, false, false)));
    }

    [Test]
    public void Layout_LongByte_KeysTogetherSoNoPadding()
    {
        // Go's reason for keys-then-values: map[int64]int8 needs no padding.
        NativeMapLayout l = NativeMapLayout.Of<long, byte>();
        Assert.That(l, Is.EqualTo(new NativeMapLayout(88, 0, 8, 72, 80, 8, 1, false, false)));
    }

    [Test]
    public void Layout_128BytesInline_129BytesIndirect()
    {
        Assert.That(NativeMapLayout.Of<Bytes128, Bytes129>(), Is.EqualTo(new NativeMapLayout(8 + 1024 + 64 + 8, 0, 8, 1032, 1096, 128, 8, false, true)));
        Assert.That(NativeMapLayout.Of<Big200, Big320>(), Is.EqualTo(new NativeMapLayout(8 + 64 + 64 + 8, 0, 8, 72, 136, 8, 8, true, true)));
    }

    [TestCase(0, 0)]
    [TestCase(8, 0)]
    [TestCase(9, 1)]
    [TestCase(13, 1)]
    [TestCase(14, 2)]
    [TestCase(52, 3)]
    [TestCase(53, 4)]
    [TestCase(10_000_000, 21)]
    public void CapacityHint_PicksSmallestB(int hint, int expectedB)
    {
        Assert.That(NativeMap<long, long>.BucketsLog2ForHint(hint), Is.EqualTo(expectedB));
    }

    [TestCase(0)]
    [TestCase(8)]
    public void SmallHintAndDefault_AllocateNothingUntilFirstWrite(int hint)
    {
        long before = NativeMapMemory.LiveBytes;
        using var map = hint == 0 ? new NativeMap<long, long>() : new NativeMap<long, long>(hint);
        Assert.That(NativeMapMemory.LiveBytes, Is.EqualTo(before));
        Assert.That(map.GetStats().NativeBytes, Is.Zero);
        Assert.That(map.TryGetValue(1, out _), Is.False);
        Assert.That(map.Remove(1), Is.False);
        Assert.That(NativeMapMemory.LiveBytes, Is.EqualTo(before), "reads and a miss-delete allocate nothing");
        map[1] = 1;
        Assert.That(map.GetStats().NativeBytes, Is.GreaterThan(0));
        Assert.That(map.GetStats().B, Is.Zero);
    }

    [Test]
    public void HintAbove8_AllocatesTheArrayAtOnce_WithPreallocatedTailFromB4()
    {
        using var map = new NativeMap<long, long>(1000);
        MapDebugState s = map.GetDebugState();
        Assert.That(s.B, Is.EqualTo(8));
        // 2^8 + 2^4 buckets, rounded up to whole pages: the slack becomes more preallocated overflow.
        long min = 256 + 16;
        Assert.That(s.ArrayBucketCount, Is.GreaterThanOrEqualTo(min).And.LessThan(min + 4096 / 144 + 1));
        Assert.That(s.NextOverflow, Is.EqualTo(s.Buckets + 256 * 144));
        Assert.That(map.GetStats().NativeBytes, Is.EqualTo(s.ArrayBucketCount * 144 + Unsafe.SizeOf<MapExtra>()));
    }

    [Test]
    public void NegativeCapacity_Throws_BeforeAllocating()
    {
        long before = NativeMapMemory.LiveBytes;
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new NativeMap<long, long>(-1));
        using var map = new NativeMap<long, long>();
        Assert.Throws<ArgumentOutOfRangeException>(() => map.EnsureCapacity(-1));
        Assert.That(NativeMapMemory.LiveBytes, Is.EqualTo(before));
    }

    [InlineArray(128)]
    private struct Bytes128
    {
        private byte _b;
    }

    [InlineArray(129)]
    private struct Bytes129
    {
        private byte _b;
    }
}
