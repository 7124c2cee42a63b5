# Peer of `via-eval compare FILE --treatment treat --outcome y --covariates x1..x10
# --estimator matching` (1:1 nearest-neighbour matching on the logit of the propensity
# score, without replacement, largest distance first): R MatchIt, then lm on the
# matched units with MatchIt's weights and sandwich::vcovCL by subclass (HC1).
#
#   Rscript matchit.R FILE
#
# MatchIt 4.5.1 picks between the nearest free comparison units below and above with a
# distance truncated to whole logit units (see scripts/fixtures/make_matching_fixtures.R),
# so its pairs and estimate differ from the truly nearest ones via-eval takes; the
# benchmark compares the numbers of matched units and the time, not the estimate.

suppressPackageStartupMessages({
  library(MatchIt)
  library(sandwich)
  library(jsonlite)
})

a <- commandArgs(trailingOnly = TRUE)
if (length(a) < 1) stop("usage: matchit.R FILE")
covs <- paste0("x", 1:10)
d <- read.csv(a[1])[, c("treat", "y", covs)]
f <- as.formula(paste("treat ~", paste(covs, collapse = " + ")))
m <- matchit(f, data = d, method = "nearest", distance = "glm", link = "linear.logit",
             m.order = "largest", ratio = 1, replace = FALSE)
md <- match.data(m)
fit <- lm(y ~ treat, data = md, weights = weights)
v <- vcovCL(fit, cluster = ~subclass, type = "HC1")
out <- list(
  n = nrow(d),
  matched_treated = sum(md$treat == 1),
  matched_control = sum(md$treat == 0),
  matching_att = list(estimate = unname(coef(fit)[2]), std_error = sqrt(v[2, 2])),
  matchit = as.character(packageVersion("MatchIt"))
)
cat(toJSON(out, auto_unbox = TRUE, digits = NA), "\n")
