namespace NenAi
{
    /// <summary>How a result file came to be on disk (NenAi.ResultFile's Saved column).</summary>
    public enum SaveAction
    {
        /// <summary>Downloaded by this command.</summary>
        Downloaded,
        /// <summary>Already complete on disk: not downloaded again.</summary>
        Skipped,
        /// <summary>Unpacked from a result archive (-Expand).</summary>
        Unpacked,
    }
}
