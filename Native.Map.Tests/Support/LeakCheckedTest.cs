using NUnit.Framework;

namespace Native.Map.Tests.Support;

/// <summary>
/// Base for every test that creates maps: fails the test when native bytes owned by maps are not
/// back to where they started (every map must be disposed, every retired table freed).
/// </summary>
public abstract class LeakCheckedTest
{
    private long _liveBytesAtStart;

    [SetUp]
    public void RecordLiveBytes()
    {
        // Maps a previous test forgot are freed by finalizers; let them run before measuring.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        _liveBytesAtStart = NativeMapMemory.LiveBytes;
    }

    [TearDown]
    public void AssertNothingLeaked()
    {
        if (TestContext.CurrentContext.Result.Outcome.Status == NUnit.Framework.Interfaces.TestStatus.Passed)
        {
            Assert.That(NativeMapMemory.LiveBytes, Is.EqualTo(_liveBytesAtStart), "native bytes leaked by this test");
        }
    }
}

/// <summary>Seeds for randomized tests: printed, and overridable with NATIVEMAP_SEED to reproduce a failure.</summary>
public static class TestSeed
{
    public static int Next(string name)
    {
        string? fixedSeed = Environment.GetEnvironmentVariable("NATIVEMAP_SEED");
        int seed = fixedSeed != null ? int.Parse(fixedSeed, System.Globalization.CultureInfo.InvariantCulture) : Random.Shared.Next();
        TestContext.Out.WriteLine($"{name}: seed {seed} (rerun with NATIVEMAP_SEED={seed})");
        return seed;
    }
}

/// <summary>splitmix64, the key generator of the benchmarks.</summary>
public struct SplitMix64
{
    private ulong _state;

    public SplitMix64(ulong seed) => _state = seed;

    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
