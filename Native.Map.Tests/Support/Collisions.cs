namespace Native.Map.Tests.Support;

/// <summary>Finds keys that land in a chosen bucket of a map with a fixed seed.</summary>
public static class Collisions
{
    /// <summary>The first <paramref name="count"/> keys from <paramref name="start"/> on whose hash has low bits <paramref name="bucket"/> for 2^<paramref name="b"/> buckets.</summary>
    public static List<long> KeysInBucket(NativeMap<long, long> map, int b, ulong bucket, int count, long start = 0)
    {
        var keys = new List<long>(count);
        ulong mask = (1UL << b) - 1;
        for (long k = start; keys.Count < count; k++)
        {
            if ((map.HashOf(k) & mask) == bucket)
            {
                keys.Add(k);
            }
        }
        return keys;
    }
}
