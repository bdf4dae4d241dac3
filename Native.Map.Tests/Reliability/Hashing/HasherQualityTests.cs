using System.Runtime.Intrinsics;
using System.Runtime.InteropServices;
using Native.Map.Hashing;
using Native.Map.Tests.Support;
using NUnit.Framework;

namespace Native.Map.Tests.Reliability.Hashing;

/// <summary>
/// Default hasher sanity in the SMHasher style: avalanche (every input bit flips every output bit
/// with probability between 40% and 60%), zero keys, sparse keys, small keys, and distinct seeds
/// giving distinct hashes.
/// </summary>
[TestFixture]
[Category("Hashing")]
public sealed class HasherQualityTests
{
    private const int Samples = 4000; // per (input bit, output bit) cell: sd 0.8%, so 40%..60% is over 12 sd

    /// <summary>Flips each of <paramref name="inputBits"/> bits of random keys; every (input bit, output bit) flip rate must lie in [0.4, 0.6].</summary>
    private static void AssertAvalanche(string what, int inputBits, Func<ulong, ulong, ulong, ulong> hash, Random rng)
    {
        var flips = new int[inputBits, 64];
        for (int s = 0; s < Samples; s++)
        {
            ulong lo = (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 63);
            ulong hi = (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 63);
            ulong seed = (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 63);
            if (inputBits <= 64)
            {
                lo &= inputBits == 64 ? ulong.MaxValue : (1UL << inputBits) - 1;
                hi = 0;
            }
            ulong h0 = hash(lo, hi, seed);
            for (int i = 0; i < inputBits; i++)
            {
                ulong d = i < 64 ? hash(lo ^ (1UL << i), hi, seed) : hash(lo, hi ^ (1UL << (i - 64)), seed);
                d ^= h0;
                while (d != 0)
                {
                    flips[i, System.Numerics.BitOperations.TrailingZeroCount(d)]++;
                    d &= d - 1;
                }
            }
        }
        double worst = 0.5;
        string where = "";
        for (int i = 0; i < inputBits; i++)
        {
            for (int j = 0; j < 64; j++)
            {
                double p = (double)flips[i, j] / Samples;
                if (Math.Abs(p - 0.5) > Math.Abs(worst - 0.5))
                {
                    worst = p;
                    where = $"input bit {i} -> output bit {j}";
                }
            }
        }
        TestContext.Out.WriteLine($"{what}: worst flip rate {worst:P2} ({where})");
        Assert.That(worst, Is.InRange(0.4, 0.6), $"{what}: {where} flips with probability {worst:P2}");
    }

    [Test]
    public void Avalanche_BuiltInKeys_AndSeed()
    {
        var rng = new Random(TestSeed.Next(nameof(Avalanche_BuiltInKeys_AndSeed)));
        AssertAvalanche("long", 64, (lo, _, s) => DefaultKeyHasher<long>.Hash((long)lo, s), rng);
        AssertAvalanche("int", 32, (lo, _, s) => DefaultKeyHasher<int>.Hash((int)(uint)lo, s), rng);
        AssertAvalanche("short", 16, (lo, _, s) => DefaultKeyHasher<short>.Hash((short)(ushort)lo, s), rng);
        AssertAvalanche("byte", 8, (lo, _, s) => DefaultKeyHasher<byte>.Hash((byte)lo, s), rng);
        AssertAvalanche("double", 64, (lo, _, s) => DefaultKeyHasher<double>.Hash(BitConverter.UInt64BitsToDouble(lo), s), rng);
        AssertAvalanche("Guid", 128, (lo, hi, s) =>
        {
            Span<ulong> g = [lo, hi];
            return DefaultKeyHasher<Guid>.Hash(MemoryMarshal.Cast<ulong, Guid>(g)[0], s);
        }, rng);
        AssertAvalanche("Int128", 128, (lo, hi, s) => DefaultKeyHasher<Int128>.Hash(new Int128(hi, lo), s), rng);
        AssertAvalanche("struct via GetHashCode", 32, (lo, _, s) => DefaultKeyHasher<Key16>.Hash(new Key16((long)lo, 0), s) ^ 0, rng);
        AssertAvalanche("seed (long key)", 64, (lo, _, s) => DefaultKeyHasher<long>.Hash((long)s, lo), rng);
        // Both 8-byte paths, whichever the CPU picks: AES rounds and the portable multiply mixer.
        if (System.Runtime.Intrinsics.X86.Aes.IsSupported)
        {
            AssertAvalanche("AES 8-byte hash", 64, (lo, _, s) => HashMix.AesHash64(lo, s), rng);
            AssertAvalanche("AES 8-byte hash over the seed", 64, (lo, _, k) => HashMix.AesHash64(k, lo), rng);
        }
        AssertAvalanche("portable 8-byte hash", 64, (lo, _, s) => HashMix.MulHash64(lo, s), rng);
        AssertAvalanche("portable 8-byte hash over the seed", 64, (lo, _, k) => HashMix.MulHash64(k, lo), rng);
        // The map's 32-bit hash0 reaches the hasher through ExpandSeed: a key's hash must avalanche over hash0.
        // (ExpandSeed alone is a multiply by a constant and does not avalanche; the hash it feeds must.)
        AssertAvalanche("hash0 -> hash of a key", 32, (lo, _, k) => DefaultKeyHasher<long>.Hash((long)k, HashMix.ExpandSeed((uint)lo)), rng);
        AssertAvalanche("24-byte string hash", 64, (lo, _, s) =>
        {
            Span<ulong> bytes = [lo, 0x1234, 0x5678];
            return HashMix.HashBytes(MemoryMarshal.AsBytes(bytes), s);
        }, rng);
    }

    [Test]
    public void AesHash_UsesTheProcessSecretsAsRoundKeys()
    {
        // The round keys once came from field initializers that ran before the static constructor set
        // the secrets, so they were zero in every process: AES rounds with public (zero) keys.
        if (!System.Runtime.Intrinsics.X86.Aes.IsSupported)
        {
            Assert.Ignore("no AES-NI on this CPU: the portable mixer is used");
        }
        Vector128<byte> key0 = Vector128.Create(HashMix.Secret0 * 3, HashMix.Secret1 * 5).AsByte();
        Vector128<byte> key1 = Vector128.Create(HashMix.Secret2 * 7, HashMix.Secret0 * 11).AsByte();
        Assert.That(key0, Is.Not.EqualTo(Vector128<byte>.Zero));
        Assert.That(key1, Is.Not.EqualTo(Vector128<byte>.Zero));
        foreach ((ulong k, ulong seed) in new[] { (42UL, 7UL), (0UL, 0UL), (ulong.MaxValue, 12345UL) })
        {
            Vector128<byte> v = Vector128.Create(k, seed).AsByte();
            v = System.Runtime.Intrinsics.X86.Aes.Encrypt(v, key0);
            v = System.Runtime.Intrinsics.X86.Aes.Encrypt(v, key1);
            v = System.Runtime.Intrinsics.X86.Aes.Encrypt(v, key0);
            Assert.That(HashMix.AesHash64(k, seed), Is.EqualTo(v.AsUInt64().ToScalar()), $"key {k}, seed {seed}");
        }
    }

    [Test]
    public void ZeroKeys_HashDistinctly_AndEqualKeysHashAlike()
    {
        ulong seed = HashMix.ExpandSeed(12345);
        // SMHasher "zeroes": all-zero keys of every length differ.
        var byLength = new HashSet<ulong>();
        for (int len = 0; len <= 256; len++)
        {
            Assert.That(byLength.Add(HashMix.HashBytes(new byte[len], seed)), Is.True, $"all-zero keys of {len} bytes collide with a shorter one");
        }
        // The zero key under many seeds: never 0, all distinct.
        var zeros = new HashSet<ulong>();
        for (uint h0 = 0; h0 < 10_000; h0++)
        {
            ulong h = DefaultKeyHasher<long>.Hash(0L, HashMix.ExpandSeed(h0));
            Assert.That(h, Is.Not.EqualTo(0UL));
            Assert.That(zeros.Add(h), Is.True, $"hash of 0 repeats at hash0 {h0}");
        }
        // Keys equal under Equals hash alike.
        Assert.That(DefaultKeyHasher<double>.Hash(-0.0, seed), Is.EqualTo(DefaultKeyHasher<double>.Hash(0.0, seed)));
        Assert.That(DefaultKeyHasher<double>.Hash(BitConverter.UInt64BitsToDouble(0x7FF8000000000123), seed), Is.EqualTo(DefaultKeyHasher<double>.Hash(double.NaN, seed)));
        Assert.That(DefaultKeyHasher<float>.Hash(-0.0f, seed), Is.EqualTo(DefaultKeyHasher<float>.Hash(0.0f, seed)));
        Assert.That(DefaultKeyHasher<Guid>.Hash(Guid.Empty, seed), Is.Not.EqualTo(DefaultKeyHasher<long>.Hash(1L, seed)));
    }

    /// <summary>SMHasher "sparse": every 64-bit key with at most 3 bits set (43,745 keys).</summary>
    [Test]
    public void SparseKeys_NoCollisions_WellSpreadBuckets()
    {
        var keys = new List<ulong> { 0 };
        for (int a = 0; a < 64; a++)
        {
            keys.Add(1UL << a);
            for (int b = a + 1; b < 64; b++)
            {
                keys.Add((1UL << a) | (1UL << b));
                for (int c = b + 1; c < 64; c++)
                {
                    keys.Add((1UL << a) | (1UL << b) | (1UL << c));
                }
            }
        }
        AssertSpread("sparse", [.. keys.Select(k => DefaultKeyHasher<long>.Hash((long)k, HashMix.ExpandSeed(777)))]);
    }

    /// <summary>Small keys: every 16-bit value as int, and every byte value.</summary>
    [Test]
    public void SmallKeys_NoCollisions_WellSpreadBuckets()
    {
        ulong seed = HashMix.ExpandSeed(4242);
        AssertSpread("ints 0..65535", [.. Enumerable.Range(0, 65536).Select(i => DefaultKeyHasher<int>.Hash(i, seed))]);
        AssertSpread("shorts", [.. Enumerable.Range(short.MinValue, 65536).Select(i => DefaultKeyHasher<short>.Hash((short)i, seed))]);
        ulong[] bytes = [.. Enumerable.Range(0, 256).Select(i => DefaultKeyHasher<byte>.Hash((byte)i, seed))];
        Assert.That(bytes.Distinct().Count(), Is.EqualTo(256));
        Assert.That(bytes.Select(h => h & 0xFF).Distinct().Count(), Is.GreaterThan(140), "256 byte keys use too few of 256 buckets"); // expected about 162
    }

    [Test]
    public void DistinctSeeds_GiveDistinctHashes()
    {
        var hashes = new HashSet<ulong>();
        var seeds = new HashSet<ulong>();
        for (uint h0 = 0; h0 < 100_000; h0++)
        {
            ulong s = HashMix.ExpandSeed(h0);
            Assert.That(seeds.Add(s), Is.True, $"hash0 {h0} expands to a seed seen before");
            Assert.That(hashes.Add(DefaultKeyHasher<long>.Hash(12345L, s)), Is.True, $"key 12345 hashes alike under two seeds (hash0 {h0})");
        }
    }

    /// <summary>No 64-bit collisions; chi-square of the low 12 bits (bucket) and of the top byte (tophash) within 6 sd of uniform.</summary>
    private static void AssertSpread(string what, ulong[] hashes)
    {
        Assert.That(hashes.Distinct().Count(), Is.EqualTo(hashes.Length), $"{what}: 64-bit collisions");
        double bucketChi = ChiSquare(hashes.Select(h => (int)(h & 4095)), 4096, hashes.Length);
        double topChi = ChiSquare(hashes.Select(h => (int)(h >> 56)), 256, hashes.Length);
        TestContext.Out.WriteLine($"{what}: {hashes.Length} keys, chi2 low 12 bits {bucketChi:F0} (df 4095), top byte {topChi:F0} (df 255)");
        Assert.That(bucketChi, Is.LessThan(4095 + (6 * Math.Sqrt(2 * 4095))), $"{what}: bucket bits uneven");
        Assert.That(topChi, Is.LessThan(255 + (6 * Math.Sqrt(2 * 255))), $"{what}: tophash bits uneven");
    }

    private static double ChiSquare(IEnumerable<int> bins, int binCount, int n)
    {
        var counts = new int[binCount];
        foreach (int b in bins)
        {
            counts[b]++;
        }
        double expected = (double)n / binCount;
        return counts.Sum(c => (c - expected) * (c - expected) / expected);
    }
}
