using Native.Map.Tests.Support;
using NUnit.Framework;

namespace Native.Map.Tests.Reliability.ModelBased;

/// <summary>
/// Nothing lost: random sequences of every public operation, run against NativeMap and Dictionary
/// side by side (see <see cref="MapModelChecker{TKey, TValue, THasher}"/>), with the invariant
/// checker after every operation and a tracking allocator that must end empty. A failure is shrunk
/// by CsCheck and printed as a C# <see cref="Scenario"/>: paste it into <see cref="ModelRegressionTests"/>.
/// </summary>
[TestFixture]
[Category("Model")]
public sealed class ModelBasedTests : LeakCheckedTest
{
    [Test]
    public void LongLong_DefaultHasher_10000Sequences_MatchDictionary()
    {
        var checker = new MapModelChecker<long, long, DefaultKeyHasher<long>>(k => k, v => v);
        long passed = ModelGen.SampleSeeded(nameof(LongLong_DefaultHasher_10000Sequences_MatchDictionary), ModelGen.Scenarios(), checker.Run, 10_000);
        TestContext.Out.WriteLine($"operations: {checker.Operations}");
        Assert.That(passed, Is.EqualTo(10_000));
    }

    /// <summary>16 distinct hashes: long overflow chains, emptyRest walk-back across overflow buckets, same-size growth.</summary>
    [Test]
    public void LongLong_CollidingHasher_MatchDictionary()
    {
        var checker = new MapModelChecker<long, long, CollidingHasher>(k => k, v => v);
        long passed = ModelGen.SampleSeeded(nameof(LongLong_CollidingHasher_MatchDictionary), ModelGen.Scenarios(maxOps: 60), checker.Run, 5_000);
        TestContext.Out.WriteLine($"operations: {checker.Operations}");
        Assert.That(passed, Is.EqualTo(5_000));
    }

    /// <summary>Keys of 200 bytes and values of 320 bytes, both stored indirectly.</summary>
    [Test]
    public void Big200Big320_IndirectSlots_MatchDictionary()
    {
        var checker = new MapModelChecker<Big200, Big320, DefaultKeyHasher<Big200>>(k => new Big200(k), v => new Big320(v));
        long passed = ModelGen.SampleSeeded(nameof(Big200Big320_IndirectSlots_MatchDictionary), ModelGen.Scenarios(maxOps: 30), checker.Run, 2_000);
        TestContext.Out.WriteLine($"operations: {checker.Operations}");
        Assert.That(passed, Is.EqualTo(2_000));
    }

    /// <summary>A 4-byte key and a 1-byte value: the narrowest slots (no padding between keys and values).</summary>
    [Test]
    public void IntByte_NarrowSlots_MatchDictionary()
    {
        var checker = new MapModelChecker<int, byte, DefaultKeyHasher<int>>(k => k, v => (byte)v);
        long passed = ModelGen.SampleSeeded(nameof(IntByte_NarrowSlots_MatchDictionary), ModelGen.Scenarios(maxOps: 40), checker.Run, 3_000);
        TestContext.Out.WriteLine($"operations: {checker.Operations}");
        Assert.That(passed, Is.EqualTo(3_000));
    }
}
