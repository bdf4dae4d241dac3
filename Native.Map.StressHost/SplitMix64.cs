namespace Native.Map.Tests.Support;

/// <summary>
/// splitmix64 for the shared test keys (Big200). The test project defines it in LeakCheckedTest.cs,
/// which needs NUnit, so the host carries its own copy of these few lines.
/// </summary>
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
