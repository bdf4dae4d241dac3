namespace Native.Map.Bench.Suites;

/// <summary>Building and releasing the sets of maps the whole-table suites work on.</summary>
internal static class MapSets
{
    /// <summary>Fills every slot with a Dictionary holding <paramref name="keys"/> (value = index).</summary>
    public static void Fill(Dictionary<long, long>?[] dictionaries, long[] keys)
    {
        for (int r = 0; r < dictionaries.Length; r++)
        {
            var d = new Dictionary<long, long>();
            for (int i = 0; i < keys.Length; i++)
            {
                d.Add(keys[i], i);
            }
            dictionaries[r] = d;
        }
    }

    /// <summary>Fills every slot with a NativeMap holding <paramref name="keys"/> (value = index).</summary>
    public static void Fill(NativeMap<long, long>?[] maps, long[] keys)
    {
        for (int r = 0; r < maps.Length; r++)
        {
            var m = new NativeMap<long, long>();
            for (int i = 0; i < keys.Length; i++)
            {
                m.Add(keys[i], i);
            }
            maps[r] = m;
        }
    }

    /// <summary>Drops the Dictionaries and disposes the NativeMaps (their memory is native: nobody else frees it promptly).</summary>
    public static void Release(Dictionary<long, long>?[] dictionaries, NativeMap<long, long>?[] maps)
    {
        Array.Clear(dictionaries);
        for (int r = 0; r < maps.Length; r++)
        {
            maps[r]?.Dispose();
            maps[r] = null;
        }
    }
}
