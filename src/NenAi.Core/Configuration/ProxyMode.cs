namespace NenAi.Core.Configuration
{
    /// <summary>How requests reach the network.</summary>
    public enum ProxyMode
    {
        /// <summary>The operating system's proxy settings (the default).</summary>
        System,
        /// <summary>An explicit proxy URI, optionally with credentials.</summary>
        Explicit,
        /// <summary>Direct connections, ignoring any system proxy.</summary>
        None,
    }
}
