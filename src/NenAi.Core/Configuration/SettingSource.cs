namespace NenAi.Core.Configuration
{
    /// <summary>
    /// Where a connection setting came from, in the order a command looks for it: its own parameter, the session
    /// (Connect-NenService), the NEN_* environment variable, the built-in default (the base URL only).
    /// </summary>
    public enum SettingSource
    {
        NotSet,
        Parameter,
        Session,
        Environment,
        Default,
    }
}
