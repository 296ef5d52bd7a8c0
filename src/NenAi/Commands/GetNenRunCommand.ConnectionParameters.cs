using System;
using System.Management.Automation;
using System.Security;
using System.Security.Cryptography.X509Certificates;

namespace NenAi.Commands
{
    /// <summary>
    /// The base cmdlets' connection parameters and -ThrottleLimit, pinned to the sets that send requests: listing a journal
    /// (-JournalPath) sends none, so its syntax offers none of them. Each forwards to the base property,
    /// which keeps the one default and the one meaning.
    /// </summary>
    public sealed partial class GetNenRunCommand
    {
        [Parameter(ParameterSetName = ByInput)]
        [Parameter(ParameterSetName = ById)]
        [ValidateNotNullOrEmpty]
        public override string? BaseUri { get => base.BaseUri; set => base.BaseUri = value; }

        [Parameter(ParameterSetName = ByInput)]
        [Parameter(ParameterSetName = ById)]
        [SecureStringTransformation]
        public override SecureString? ApiKey { get => base.ApiKey; set => base.ApiKey = value; }

        [Parameter(ParameterSetName = ByInput)]
        [Parameter(ParameterSetName = ById)]
        [SecureStringTransformation]
        public override SecureString? SigningKey { get => base.SigningKey; set => base.SigningKey = value; }

        [Parameter(ParameterSetName = ByInput)]
        [Parameter(ParameterSetName = ById)]
        public override Uri? Proxy { get => base.Proxy; set => base.Proxy = value; }

        [Parameter(ParameterSetName = ByInput)]
        [Parameter(ParameterSetName = ById)]
        [Credential]
        public override PSCredential? ProxyCredential { get => base.ProxyCredential; set => base.ProxyCredential = value; }

        [Parameter(ParameterSetName = ByInput)]
        [Parameter(ParameterSetName = ById)]
        public override SwitchParameter ProxyUseDefaultCredentials { get => base.ProxyUseDefaultCredentials; set => base.ProxyUseDefaultCredentials = value; }

        [Parameter(ParameterSetName = ByInput)]
        [Parameter(ParameterSetName = ById)]
        public override SwitchParameter NoProxy { get => base.NoProxy; set => base.NoProxy = value; }

        [Parameter(ParameterSetName = ByInput)]
        [Parameter(ParameterSetName = ById)]
        public override SwitchParameter SkipCertificateCheck { get => base.SkipCertificateCheck; set => base.SkipCertificateCheck = value; }

        [Parameter(ParameterSetName = ByInput)]
        [Parameter(ParameterSetName = ById)]
        [ValidateNotNull]
        public override X509Certificate? Certificate { get => base.Certificate; set => base.Certificate = value; }

        [Parameter(ParameterSetName = ByInput)]
        [Parameter(ParameterSetName = ById)]
        [ValidateRange(0, 20)]
        public override int MaximumRetryCount { get => base.MaximumRetryCount; set => base.MaximumRetryCount = value; }

        [Parameter(ParameterSetName = ByInput)]
        [Parameter(ParameterSetName = ById)]
        [ValidateRange(0, 86400)]
        public override int RetryBudgetSec { get => base.RetryBudgetSec; set => base.RetryBudgetSec = value; }

        [Parameter(ParameterSetName = ByInput)]
        [Parameter(ParameterSetName = ById)]
        public override SwitchParameter AllowInsecureHttp { get => base.AllowInsecureHttp; set => base.AllowInsecureHttp = value; }

        [Parameter(ParameterSetName = ByInput)]
        [Parameter(ParameterSetName = ById)]
        [ValidateRange(1, 86400)]
        public override int RequestTimeoutSec { get => base.RequestTimeoutSec; set => base.RequestTimeoutSec = value; }

        [Parameter(ParameterSetName = ByInput)]
        [Parameter(ParameterSetName = ById)]
        [ValidateRange(1, 64)]
        public override int ThrottleLimit { get => base.ThrottleLimit; set => base.ThrottleLimit = value; }

        [Parameter(ParameterSetName = ByInput)]
        [Parameter(ParameterSetName = ById)]
        public override SwitchParameter NoProgress { get => base.NoProgress; set => base.NoProgress = value; }
    }
}
