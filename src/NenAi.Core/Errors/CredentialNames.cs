namespace NenAi.Core.Errors
{
    /// <summary>
    /// Which credential a refusal (401, 403, 407) is about, in words a user can act on. Names only: a credential's
    /// value is never shown.
    /// </summary>
    public static class CredentialNames
    {
        /// <summary>True for the answers that refuse the credentials themselves, so every request would be refused.</summary>
        public static bool IsRefusal(string errorId) =>
            errorId == NenErrorIds.Unauthorized || errorId == NenErrorIds.InvalidSignature || errorId == NenErrorIds.InvalidTimestamp
            || errorId == NenErrorIds.HmacRequired || errorId == NenErrorIds.Forbidden || errorId == NenErrorIds.ProxyAuthenticationRequired;

        /// <summary>"API key", "signing key", … as the subject of "was refused".</summary>
        public static string Refused(string errorId) => errorId switch
        {
            NenErrorIds.Unauthorized => "API key",
            NenErrorIds.Forbidden => "API key (it has no permission for this request)",
            NenErrorIds.InvalidSignature => "signing key (the request signature did not verify)",
            NenErrorIds.InvalidTimestamp => "signing key's timestamp (this machine's clock is more than 5 minutes off)",
            NenErrorIds.HmacRequired => "unsigned request (secure parameters need a signing key)",
            NenErrorIds.ProxyAuthenticationRequired => "proxy credentials",
            _ => "credentials",
        };

        /// <summary>What to check, naming the parameter and variable that hold the credential.</summary>
        public static string WhatToDo(string errorId) => errorId switch
        {
            NenErrorIds.Unauthorized or NenErrorIds.Forbidden => "Check -ApiKey or NEN_API_KEY (a revoked or mistyped key), then run the same command again.",
            NenErrorIds.InvalidSignature or NenErrorIds.HmacRequired => "Check -SigningKey or NEN_SIGNING_KEY (it must be the one issued with this API key), then run the same command again.",
            NenErrorIds.InvalidTimestamp => "Correct this machine's clock, then run the same command again.",
            NenErrorIds.ProxyAuthenticationRequired => "Check -ProxyCredential (or -ProxyUseDefaultCredentials), then run the same command again.",
            _ => "Check the credentials, then run the same command again.",
        };
    }
}
