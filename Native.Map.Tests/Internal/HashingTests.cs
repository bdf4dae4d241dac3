using System.Runtime.CompilerServices;
using Native.Map.Tests.Support;
using NUnit.Framework;

namespace Native.Map.Tests.Internal;

public sealed class HashingTests : LeakCheckedTest
{
    [Test]
    public void PositiveAndNegativeZero_AreOneKey()
    {
        using var map = new NativeMap<double, int>();
        map[0.0] = 1;
        map[-0.0] = 2;
        Assert.That(map.Count, Is.EqualTo(1));
        Assert.That(map[0.0], Is.EqualTo(2));
        using var fmap = new NativeMap<float, int>();
        fmap[0.0f] = 1;
        Assert.That(fmap.ContainsKey(-0.0f), Is.True);
    }

    [Test]
    public void AllNaNPayloads_AreOneKey()
    {
        using var map = new NativeMap<double, int>();
        map[double.NaN] = 1;
        map[BitConverter.Int64BitsToDouble(0x7FF0000000000001)] = 2;
        map[BitConverter.Int64BitsToDouble(unchecked((long)0xFFF8000000000000))] = 3;
        Assert.That(map.Count, Is.EqualTo(1), "Deviation from Go: NaN equals itself through IEquatable<double>");
        Assert.That(map[double.NaN], Is.EqualTo(3));
        Assert.That(map.Remove(double.NaN), Is.True);
        Assert.That(map.Count, Is.Zero);
    }

    [Test]
    public void StructWhoseEqualsIgnoresAField_IsStillFound()
    {
        using var map = new NativeMap<PartialKey, int>();
        for (int i = 0; i < 1000; i++)
        {
            map[new PartialKey(i, note: 1)] = i;
        }
        for (int i = 0; i < 1000; i++)
        {
            Assert.That(map[new PartialKey(i, note: 99)], Is.EqualTo(i));
        }
        map[new PartialKey(5, note: 7)] = -5;
        Assert.That(map.Count, Is.EqualTo(1000));
    }

    [Test]
    public void EqualStructsWithDifferentPaddingBytes_AreOneKey()
    {
        using var map = new NativeMap<PaddedKey, int>();
        PaddedKey a = Make(3, 1234, padding: 0x00);
        PaddedKey b = Make(3, 1234, padding: 0xAB);
        Assert.That(BytesOf(a).SequenceEqual(BytesOf(b)), Is.False, "the two keys differ in their padding bytes");
        map[a] = 1;
        Assert.That(map.TryGetValue(b, out int v), Is.True);
        Assert.That(v, Is.EqualTo(1));
        map[b] = 2;
        Assert.That(map.Count, Is.EqualTo(1));

        static PaddedKey Make(byte tag, long value, byte padding)
        {
            PaddedKey k = default;
            Span<byte> raw = MemoryMarshalBytes(ref k);
            raw.Fill(padding);
            k.Tag = tag;
            k.Value = value;
            return k;
        }
    }

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(12)]
    [TestCase(32)]
    [TestCase(48)]
    public void StructuredKeys_SpreadAcrossBuckets(int shift)
    {
        // Sequential, multiples of 2^k and i << 32 all keep chains short and buckets used.
        using var map = new NativeMap<long, long>(1 << 14);
        for (long i = 0; i < (1 << 14); i++)
        {
            map[i << shift] = i;
        }
        NativeMapStats s = map.GetStats();
        Assert.That(s.IsGrowing, Is.False);
        Assert.That(s.OverflowBucketCount, Is.LessThan(s.BucketCount / 8), "few overflow buckets at load 4");
        int maxChain = Enumerable.Range(0, (int)s.BucketCount).Max(j => map.GetChainTopHashes(j).Count);
        Assert.That(maxChain, Is.LessThanOrEqualTo(3));
        map.CheckInvariants();
    }

    [Test]
    public void TopHashBytes_AreSpread()
    {
        using var map = new NativeMap<long, long>();
        var tops = new int[256];
        for (long i = 0; i < 100_000; i++)
        {
            tops[(byte)(map.HashOf(i << 20) >> 56)]++;
        }
        Assert.That(tops.Min(), Is.GreaterThan(100_000 / 256 / 2));
        Assert.That(tops.Max(), Is.LessThan(100_000 / 256 * 2));
    }

    [Test]
    public void CustomHasher_AsStructTypeArgument_DefinesEquality()
    {
        using var map = new NativeMap<long, int, ModuloHasher>();
        map[5] = 1;
        map[1005] = 2; // same key under the custom equality
        Assert.That(map.Count, Is.EqualTo(1));
        Assert.That(map[2005], Is.EqualTo(2));
        for (long i = 0; i < 5000; i++)
        {
            map[i] = (int)i;
        }
        Assert.That(map.Count, Is.EqualTo(1000));
        map.CheckInvariants();
    }

    [Test]
    public void BitwiseHasher_ForStructsWhoseBytesAreTheirIdentity()
    {
        using var map = new NativeMap<Key16, long, BitwiseKeyHasher<Key16>>();
        for (long i = 0; i < 10_000; i++)
        {
            map[new Key16(i, -i)] = i;
        }
        for (long i = 0; i < 10_000; i++)
        {
            Assert.That(map[new Key16(i, -i)], Is.EqualTo(i));
        }
        Assert.That(map.ContainsKey(new Key16(1, 1)), Is.False);
        map.CheckInvariants();
    }

    [Test]
    public void DefaultHasher_IsSeeded()
    {
        Assert.That(DefaultKeyHasher<long>.Hash(42, 1), Is.Not.EqualTo(DefaultKeyHasher<long>.Hash(42, 2)));
        Assert.That(DefaultKeyHasher<long>.Hash(42, 1), Is.EqualTo(DefaultKeyHasher<long>.Hash(42, 1)));
        Assert.That(DefaultKeyHasher<Guid>.Hash(Guid.Empty, 1), Is.Not.EqualTo(DefaultKeyHasher<Guid>.Hash(Guid.Empty, 2)));
    }

    private static Span<byte> MemoryMarshalBytes(ref PaddedKey k) =>
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref k, 1));

    private static byte[] BytesOf(PaddedKey k) => MemoryMarshalBytes(ref k).ToArray();

    /// <summary>Keys equal modulo 1000.</summary>
    private readonly struct ModuloHasher : IKeyHasher<long>
    {
        public static ulong Hash(in long key, ulong seed) => DefaultKeyHasher<long>.Hash(key % 1000, seed);

        public static bool KeyEquals(in long x, in long y) => x % 1000 == y % 1000;

        public static bool CanThrow => false;
    }

    [Test]
    public void LayoutOfPaddedKey_HasPadding() => Assert.That(Unsafe.SizeOf<PaddedKey>(), Is.EqualTo(16));
}
