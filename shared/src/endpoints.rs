//! Where each product's API lives: the documented production hosts by region, each
//! overridable by a full base URL (local fakes, VPC endpoints, proxies).

use crate::error::ConfigError;

/// A base URL split into origin (`scheme://host[:port]`) and an optional path prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    pub origin: String,
    pub prefix: String,
}

impl BaseUrl {
    pub fn parse(name: &str, url: &str) -> Result<Self, ConfigError> {
        let bad = |problem: &str| ConfigError::new(name, format!("{problem} (got {url:?})"));
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("must be an http:// or https:// URL"))?;
        if scheme != "http" && scheme != "https" {
            return Err(bad("must be an http:// or https:// URL"));
        }
        if rest.contains(['?', '#', ' ']) {
            return Err(bad("must not contain a query, fragment or spaces"));
        }
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if authority.is_empty() || authority.contains('@') {
            return Err(bad("must name a host (and no user info)"));
        }
        Ok(Self {
            origin: format!("{scheme}://{authority}"),
            prefix: path.trim_end_matches('/').to_string(),
        })
    }

    fn https(host: String) -> Self {
        Self {
            origin: format!("https://{host}"),
            prefix: String::new(),
        }
    }
}

/// Regions whose SLB API is the central `slb.aliyuncs.com`: the official SDK's endpoint map
/// (alibabacloud-slb20140515 3.3.31); the conformance check compares the two.
const SLB_CENTRAL_REGIONS: &[&str] = &[
    "ap-northeast-2-pop",
    "ap-southeast-1",
    "cn-beijing",
    "cn-beijing-finance-pop",
    "cn-beijing-gov-1",
    "cn-beijing-nu16-b01",
    "cn-edge-1",
    "cn-fujian",
    "cn-haidian-cm12-c01",
    "cn-hangzhou",
    "cn-hangzhou-bj-b01",
    "cn-hangzhou-finance",
    "cn-hangzhou-internal-prod-1",
    "cn-hangzhou-internal-test-1",
    "cn-hangzhou-internal-test-2",
    "cn-hangzhou-internal-test-3",
    "cn-hangzhou-test-306",
    "cn-hongkong",
    "cn-hongkong-finance-pop",
    "cn-north-2-gov-1",
    "cn-qingdao",
    "cn-shanghai",
    "cn-shanghai-et15-b01",
    "cn-shanghai-et2-b01",
    "cn-shanghai-finance-1",
    "cn-shanghai-inner",
    "cn-shanghai-internal-test-1",
    "cn-shenzhen",
    "cn-shenzhen-finance-1",
    "cn-shenzhen-inner",
    "cn-shenzhen-st4-d01",
    "cn-shenzhen-su18-b01",
    "cn-wuhan",
    "cn-yushanfang",
    "cn-zhangbei",
    "cn-zhangbei-na61-b01",
    "cn-zhangjiakou-na62-a01",
    "cn-zhengzhou-nebula-1",
    "eu-west-1-oxs",
    "rus-west-1-pop",
    "us-east-1",
    "us-west-1",
];

/// Per-product overrides; `None` means the production host.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    pub alb: Option<BaseUrl>,
    pub slb: Option<BaseUrl>,
    pub roma: Option<BaseUrl>,
    pub ga: Option<BaseUrl>,
}

impl Endpoints {
    pub fn alb(&self, region: &str) -> BaseUrl {
        self.alb.clone().unwrap_or_else(|| {
            let region = if region == "cn-hangzhou-finance" {
                "cn-hangzhou"
            } else {
                region
            };
            BaseUrl::https(format!("alb.{region}.aliyuncs.com"))
        })
    }

    pub fn slb(&self, region: &str) -> BaseUrl {
        self.slb.clone().unwrap_or_else(|| {
            if SLB_CENTRAL_REGIONS.contains(&region) {
                BaseUrl::https("slb.aliyuncs.com".into())
            } else if region == "cn-huhehaote-nebula-1" {
                BaseUrl::https("slb-api.cn-qingdao-nebula.aliyuncs.com".into())
            } else {
                BaseUrl::https(format!("slb.{region}.aliyuncs.com"))
            }
        })
    }

    pub fn roma(&self, region: &str) -> BaseUrl {
        self.roma
            .clone()
            .unwrap_or_else(|| BaseUrl::https(format!("roma.{region}.myhuaweicloud.com")))
    }

    /// Global Accelerator has one global endpoint.
    pub fn ga(&self) -> BaseUrl {
        self.ga
            .clone()
            .unwrap_or_else(|| BaseUrl::https("ga.myhuaweicloud.com".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_hosts() {
        let e = Endpoints::default();
        assert_eq!(
            e.alb("cn-beijing").origin,
            "https://alb.cn-beijing.aliyuncs.com"
        );
        assert_eq!(
            e.alb("cn-hangzhou-finance").origin,
            "https://alb.cn-hangzhou.aliyuncs.com"
        );
        assert_eq!(e.slb("cn-hangzhou").origin, "https://slb.aliyuncs.com");
        assert_eq!(
            e.slb("eu-central-1").origin,
            "https://slb.eu-central-1.aliyuncs.com"
        );
        assert_eq!(
            e.roma("cn-north-4").origin,
            "https://roma.cn-north-4.myhuaweicloud.com"
        );
        assert_eq!(e.ga().origin, "https://ga.myhuaweicloud.com");
    }

    #[test]
    fn overrides_are_full_base_urls() {
        let b = BaseUrl::parse("LBPILOT_ALB_ENDPOINT", "http://127.0.0.1:8080/alb/").unwrap();
        assert_eq!(b.origin, "http://127.0.0.1:8080");
        assert_eq!(b.prefix, "/alb");
        for bad in [
            "127.0.0.1:8080",
            "ftp://x",
            "http://",
            "http://h/?q=1",
            "http://u@h",
        ] {
            let err = BaseUrl::parse("LBPILOT_ALB_ENDPOINT", bad).unwrap_err();
            assert_eq!(err.name, "LBPILOT_ALB_ENDPOINT");
        }
    }
}
