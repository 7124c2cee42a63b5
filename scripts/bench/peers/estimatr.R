# Peer of `via-eval compare --outcome y --covariates x1..x8 --cluster cluster --se cr1|cr2`:
# data.table::fread reads the CSV, estimatr::lm_robust fits OLS with cluster-robust SEs.
#   se_type = "stata" is CR1 (G/(G-1) * (n-1)/(n-k), t with G-1 df);
#   se_type = "CR2" is Bell-McCaffrey CR2 with its Satterthwaite-type df.
#
#   Rscript estimatr.R FILE stata|CR2

suppressPackageStartupMessages({
  library(data.table)
  library(estimatr)
  library(jsonlite)
})

a <- commandArgs(trailingOnly = TRUE)
if (length(a) < 2) stop("usage: estimatr.R FILE stata|CR2")
path <- a[1]
se_type <- a[2]
covs <- paste0("x", 1:8)

d <- fread(path, select = c("arm", "y", covs, "cluster"), showProgress = FALSE)
f <- as.formula(paste("y ~ arm +", paste(covs, collapse = " + ")))
fit <- lm_robust(f, data = d, clusters = cluster, se_type = se_type)

out <- list(
  n = nrow(d),
  n_clusters = length(unique(d$cluster)),
  ols_adjusted = list(
    estimate = unname(fit$coefficients["arm"]),
    std_error = unname(fit$std.error["arm"]),
    df = unname(fit$df["arm"]),
    p_value = unname(fit$p.value["arm"]),
    ci_low = unname(fit$conf.low["arm"]),
    ci_high = unname(fit$conf.high["arm"])
  )
)
cat(toJSON(out, auto_unbox = TRUE, digits = NA), "\n")
