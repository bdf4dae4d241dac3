using System.Runtime.CompilerServices;

namespace Native.Map.Tests.Support;

/// <summary>Keys and values of a given byte size, built from a seed, for the size boundary tests.</summary>
public interface ISizedStruct<TSelf>
    where TSelf : unmanaged, ISizedStruct<TSelf>
{
    /// <summary>A value whose bytes are a function of <paramref name="seed"/>; distinct seeds give distinct values.</summary>
    static abstract TSelf Create(long seed);

    /// <summary>Whether every byte is zero.</summary>
    bool IsAllZero { get; }
}

/// <summary>Fills <paramref name="bytes"/> from <paramref name="seed"/>: distinct seeds give distinct contents for 1 byte and up (seeds below 256 at 1 byte).</summary>
internal static class SizedFill
{
    public static void Fill(Span<byte> bytes, long seed)
    {
        var rng = new SplitMix64((ulong)seed * 0x9E3779B97F4A7C15UL + 1);
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)rng.Next();
        }
        Span<byte> s = stackalloc byte[8];
        BitConverter.TryWriteBytes(s, seed);
        s[..Math.Min(8, bytes.Length)].CopyTo(bytes);
    }
}

/// <summary>A 1-byte struct.</summary>
public struct Sized1 : IEquatable<Sized1>, ISizedStruct<Sized1>
{
    private Bytes _data;

    public static Sized1 Create(long seed)
    {
        Sized1 s = default;
        SizedFill.Fill(s._data, seed);
        return s;
    }

    public readonly bool IsAllZero => ((ReadOnlySpan<byte>)_data).IndexOfAnyExcept((byte)0) < 0;

    public readonly bool Equals(Sized1 other) => ((ReadOnlySpan<byte>)_data).SequenceEqual(other._data);

    public override readonly bool Equals(object? obj) => obj is Sized1 o && Equals(o);

    public override readonly int GetHashCode()
    {
        var h = new HashCode();
        h.AddBytes(_data);
        return h.ToHashCode();
    }

    public override readonly string ToString() => $"Sized1({Convert.ToHexString(((ReadOnlySpan<byte>)_data)[..Math.Min(1, 8)])})";

    [InlineArray(1)]
    private struct Bytes
    {
        private byte _b;
    }
}

/// <summary>A 127-byte struct.</summary>
public struct Sized127 : IEquatable<Sized127>, ISizedStruct<Sized127>
{
    private Bytes _data;

    public static Sized127 Create(long seed)
    {
        Sized127 s = default;
        SizedFill.Fill(s._data, seed);
        return s;
    }

    public readonly bool IsAllZero => ((ReadOnlySpan<byte>)_data).IndexOfAnyExcept((byte)0) < 0;

    public readonly bool Equals(Sized127 other) => ((ReadOnlySpan<byte>)_data).SequenceEqual(other._data);

    public override readonly bool Equals(object? obj) => obj is Sized127 o && Equals(o);

    public override readonly int GetHashCode()
    {
        var h = new HashCode();
        h.AddBytes(_data);
        return h.ToHashCode();
    }

    public override readonly string ToString() => $"Sized127({Convert.ToHexString(((ReadOnlySpan<byte>)_data)[..Math.Min(127, 8)])})";

    [InlineArray(127)]
    private struct Bytes
    {
        private byte _b;
    }
}

/// <summary>A 128-byte struct.</summary>
public struct Sized128 : IEquatable<Sized128>, ISizedStruct<Sized128>
{
    private Bytes _data;

    public static Sized128 Create(long seed)
    {
        Sized128 s = default;
        SizedFill.Fill(s._data, seed);
        return s;
    }

    public readonly bool IsAllZero => ((ReadOnlySpan<byte>)_data).IndexOfAnyExcept((byte)0) < 0;

    public readonly bool Equals(Sized128 other) => ((ReadOnlySpan<byte>)_data).SequenceEqual(other._data);

    public override readonly bool Equals(object? obj) => obj is Sized128 o && Equals(o);

    public override readonly int GetHashCode()
    {
        var h = new HashCode();
        h.AddBytes(_data);
        return h.ToHashCode();
    }

    public override readonly string ToString() => $"Sized128({Convert.ToHexString(((ReadOnlySpan<byte>)_data)[..Math.Min(128, 8)])})";

    [InlineArray(128)]
    private struct Bytes
    {
        private byte _b;
    }
}

/// <summary>A 129-byte struct (stored indirectly: over 128 bytes).</summary>
public struct Sized129 : IEquatable<Sized129>, ISizedStruct<Sized129>
{
    private Bytes _data;

    public static Sized129 Create(long seed)
    {
        Sized129 s = default;
        SizedFill.Fill(s._data, seed);
        return s;
    }

    public readonly bool IsAllZero => ((ReadOnlySpan<byte>)_data).IndexOfAnyExcept((byte)0) < 0;

    public readonly bool Equals(Sized129 other) => ((ReadOnlySpan<byte>)_data).SequenceEqual(other._data);

    public override readonly bool Equals(object? obj) => obj is Sized129 o && Equals(o);

    public override readonly int GetHashCode()
    {
        var h = new HashCode();
        h.AddBytes(_data);
        return h.ToHashCode();
    }

    public override readonly string ToString() => $"Sized129({Convert.ToHexString(((ReadOnlySpan<byte>)_data)[..Math.Min(129, 8)])})";

    [InlineArray(129)]
    private struct Bytes
    {
        private byte _b;
    }
}

/// <summary>A 4000-byte struct (stored indirectly: over 128 bytes).</summary>
public struct Sized4000 : IEquatable<Sized4000>, ISizedStruct<Sized4000>
{
    private Bytes _data;

    public static Sized4000 Create(long seed)
    {
        Sized4000 s = default;
        SizedFill.Fill(s._data, seed);
        return s;
    }

    public readonly bool IsAllZero => ((ReadOnlySpan<byte>)_data).IndexOfAnyExcept((byte)0) < 0;

    public readonly bool Equals(Sized4000 other) => ((ReadOnlySpan<byte>)_data).SequenceEqual(other._data);

    public override readonly bool Equals(object? obj) => obj is Sized4000 o && Equals(o);

    public override readonly int GetHashCode()
    {
        var h = new HashCode();
        h.AddBytes(_data);
        return h.ToHashCode();
    }

    public override readonly string ToString() => $"Sized4000({Convert.ToHexString(((ReadOnlySpan<byte>)_data)[..Math.Min(4000, 8)])})";

    [InlineArray(4000)]
    private struct Bytes
    {
        private byte _b;
    }
}
