// What Strimzi's User Operator does on the brokers for SCRAM-SHA-512 KafkaUsers with simple
// authorization, for the Kafka test bed (Kafka's Admin API over the test bed's listener without
// authentication, which the brokers treat as the super user User:ANONYMOUS, as Strimzi's own
// identities are super users):
//
//   UserOperator apply SPEC.json [--prune]
//       SPEC = {"bootstrap": "HOST:PORT", "aclsAdminApiSupported": true,
//               "users": [{"name": N, "password": P, "acls": [ACL...]}]}
//       Each user: upsert its SCRAM-SHA-512 credential (4096 iterations, like Strimzi's
//       ScramCredentialsOperator), then make the ACLs of principal User:N exactly the given list
//       (missing ones created, extra ones deleted; no or null acls: none). ACL items are the
//       KafkaUser's spec.authorization.acls (Strimzi's format; mapped as Strimzi's SimpleAclRule
//       does). "aclsAdminApiSupported": false (Strimzi's STRIMZI_ACLS_ADMIN_API_SUPPORTED, false
//       when the Kafka has no authorization) leaves ACLs alone: credentials only; a user with
//       ACLs is then refused, as Strimzi refuses it.
//       --prune: also delete the credential and ACLs of every other user the brokers know
//       (never User:ANONYMOUS or the wildcard User:*), as the User Operator's periodic
//       reconciliation deletes users without a KafkaUser.
//   UserOperator delete --bootstrap HOST:PORT [--no-acls] NAME...
//       Remove the users' SCRAM-SHA-512 credentials and all ACLs of User:NAME.
//   UserOperator describe --bootstrap HOST:PORT [--no-acls] [NAME...]
//       Print the users (credentials and ACLs, in Strimzi's ACL format), all when no NAME.
//   --no-acls: leave ACLs out (brokers without an authorizer).
//
// Prints a JSON result on stdout. Any failure (an unknown value in the spec, a broker error such
// as SecurityDisabledException when the brokers have no authorizer) prints {"error": ...} and
// exits 1 (2 for usage errors).

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialDeletion;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.admin.UserScramCredentialsDescription;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.ResourceNotFoundException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.apache.kafka.common.resource.ResourceType;

public final class UserOperator {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int ITERATIONS = 4096;
    private static final long TIMEOUT_SECONDS = 60;
    /** Strimzi's name for the cluster resource (SimpleAclRuleResource). */
    private static final String CLUSTER_NAME = "kafka-cluster";

    /** A spec the program refuses (exit 1, no broker call made for it). */
    static final class SpecException extends RuntimeException {
        SpecException(String message) {
            super(message);
        }
    }

    public static void main(String[] args) {
        int code;
        try {
            code = run(args);
        } catch (SpecException e) {
            fail("invalid spec: " + e.getMessage());
            code = 1;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            fail(cause.getClass().getSimpleName() + ": " + cause.getMessage());
            code = 1;
        } catch (Exception e) {
            fail(e.getClass().getSimpleName() + ": " + e.getMessage());
            code = 1;
        }
        System.out.flush();
        System.exit(code);
    }

    private static void fail(String message) {
        ObjectNode out = JSON.createObjectNode();
        out.put("error", message);
        System.out.println(out.toString());
        System.err.println("UserOperator: " + message);
    }

    private static int usage(String message) {
        System.err.println("UserOperator: " + message);
        System.err.println("usage: UserOperator apply SPEC.json [--prune] | delete --bootstrap HOST:PORT [--no-acls] NAME... | describe --bootstrap HOST:PORT [--no-acls] [NAME...]");
        return 2;
    }

    private static int run(String[] args) throws Exception {
        if (args.length == 0) {
            return usage("no command");
        }
        String command = args[0];
        List<String> rest = new ArrayList<>(List.of(args).subList(1, args.length));
        switch (command) {
            case "apply": {
                boolean prune = rest.remove("--prune");
                if (rest.size() != 1) {
                    return usage("apply takes one SPEC file");
                }
                JsonNode spec = JSON.readTree(new File(rest.get(0)));
                String bootstrap = text(spec, "bootstrap", "the spec");
                JsonNode users = spec.get("users");
                if (users == null || !users.isArray()) {
                    throw new SpecException("the spec has no users array");
                }
                for (Iterator<String> it = spec.fieldNames(); it.hasNext(); ) {
                    String f = it.next();
                    if (!f.equals("bootstrap") && !f.equals("users") && !f.equals("aclsAdminApiSupported")) {
                        throw new SpecException("unknown field " + f + " in the spec");
                    }
                }
                // Validate everything before touching the brokers.
                JsonNode supported = spec.get("aclsAdminApiSupported");
                if (supported != null && !supported.isBoolean()) {
                    throw new SpecException("aclsAdminApiSupported is not a boolean");
                }
                boolean manageAcls = supported == null || supported.asBoolean();
                List<DesiredUser> desired = new ArrayList<>();
                for (JsonNode u : users) {
                    DesiredUser user = DesiredUser.parse(u);
                    if (!manageAcls && !user.acls.isEmpty()) {
                        throw new SpecException("user " + user.name + ": Simple authorization ACL rules are configured but not supported in the Kafka cluster configuration.");
                    }
                    desired.add(user);
                }
                try (Admin admin = admin(bootstrap)) {
                    System.out.println(apply(admin, desired, prune, manageAcls).toPrettyString());
                }
                return 0;
            }
            case "delete":
            case "describe": {
                String bootstrap = null;
                boolean noAcls = rest.remove("--no-acls");
                List<String> names = new ArrayList<>();
                for (int i = 0; i < rest.size(); i++) {
                    if (rest.get(i).equals("--bootstrap") && i + 1 < rest.size()) {
                        bootstrap = rest.get(++i);
                    } else if (rest.get(i).startsWith("--")) {
                        return usage("unknown flag " + rest.get(i));
                    } else {
                        names.add(rest.get(i));
                    }
                }
                if (bootstrap == null) {
                    return usage(command + " needs --bootstrap");
                }
                if (command.equals("delete") && names.isEmpty()) {
                    return usage("delete needs user names");
                }
                try (Admin admin = admin(bootstrap)) {
                    ObjectNode out = command.equals("delete") ? delete(admin, names, !noAcls) : describe(admin, names, !noAcls);
                    System.out.println(out.toPrettyString());
                }
                return 0;
            }
            default:
                return usage("unknown command " + command);
        }
    }

    private static Admin admin(String bootstrap) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "testbed-user-operator");
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "8000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
        return Admin.create(p);
    }

    // ---- the spec ------------------------------------------------------------------------

    static final class DesiredUser {
        final String name;
        final String password;
        final Set<AclBinding> acls;

        DesiredUser(String name, String password, Set<AclBinding> acls) {
            this.name = name;
            this.password = password;
            this.acls = acls;
        }

        static DesiredUser parse(JsonNode u) {
            String name = text(u, "name", "a user");
            String password = text(u, "password", "user " + name);
            if (password.isEmpty()) {
                throw new SpecException("user " + name + ": the password is empty");
            }
            for (Iterator<String> it = u.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!f.equals("name") && !f.equals("password") && !f.equals("acls")) {
                    throw new SpecException("user " + name + ": unknown field " + f);
                }
            }
            Set<AclBinding> acls = new LinkedHashSet<>();
            JsonNode list = u.get("acls");
            if (list != null && !list.isNull()) {
                if (!list.isArray()) {
                    throw new SpecException("user " + name + ": acls is not a list");
                }
                int i = 0;
                for (JsonNode rule : list) {
                    try {
                        acls.addAll(bindings(principal(name), rule));
                    } catch (SpecException e) {
                        throw new SpecException("user " + name + ", acls[" + i + "]: " + e.getMessage());
                    }
                    i++;
                }
            }
            return new DesiredUser(name, password, acls);
        }
    }

    private static String text(JsonNode node, String field, String where) {
        JsonNode v = node == null ? null : node.get(field);
        if (v == null || !v.isTextual()) {
            throw new SpecException(where + " has no string " + field);
        }
        return v.asText();
    }

    private static String principal(String user) {
        return "User:" + user;
    }

    /** One Strimzi ACL rule -> Kafka ACL bindings (one per operation), as SimpleAclRule maps it. */
    static List<AclBinding> bindings(String principal, JsonNode rule) {
        if (rule == null || !rule.isObject()) {
            throw new SpecException("an ACL rule is not an object");
        }
        for (Iterator<String> it = rule.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!Set.of("type", "resource", "host", "operation", "operations").contains(f)) {
                throw new SpecException("unknown field " + f);
            }
        }
        AclPermissionType permission;
        String type = rule.has("type") ? rule.get("type").asText() : "allow";
        switch (type) {
            case "allow": permission = AclPermissionType.ALLOW; break;
            case "deny": permission = AclPermissionType.DENY; break;
            default: throw new SpecException("unknown ACL type " + rule.get("type"));
        }
        String host = rule.has("host") ? rule.get("host").asText() : "*";
        ResourcePattern pattern = pattern(rule.get("resource"));
        List<AclOperation> operations = new ArrayList<>();
        JsonNode many = rule.get("operations");
        JsonNode one = rule.get("operation");
        if (many != null && !many.isNull() && one != null && !one.isNull()) {
            // Strimzi 0.45.2 (v1beta2) rejects this; 1.2.0 (v1) has only `operations`.
            throw new SpecException("Both fields `operations` and `operation` cannot be filled in at the same time");
        }
        if (many != null && !many.isNull()) {
            if (!many.isArray()) {
                throw new SpecException("operations is not a list");
            }
            for (JsonNode op : many) {
                operations.add(operation(op));
            }
        } else if (one != null && !one.isNull()) {
            operations.add(operation(one));
        } else {
            throw new SpecException("the rule has no operations");
        }
        List<AclBinding> out = new ArrayList<>();
        for (AclOperation op : operations) {
            out.add(new AclBinding(pattern, new AccessControlEntry(principal, host, op, permission)));
        }
        return out;
    }

    private static ResourcePattern pattern(JsonNode resource) {
        if (resource == null || !resource.isObject()) {
            throw new SpecException("the rule has no resource");
        }
        for (Iterator<String> it = resource.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!Set.of("type", "name", "patternType").contains(f)) {
                throw new SpecException("unknown resource field " + f);
            }
        }
        String type = text(resource, "type", "the resource");
        PatternType patternType = PatternType.LITERAL;
        if (resource.has("patternType") && !resource.get("patternType").isNull()) {
            switch (resource.get("patternType").asText()) {
                case "literal": patternType = PatternType.LITERAL; break;
                case "prefix": patternType = PatternType.PREFIXED; break;
                default: throw new SpecException("unknown patternType " + resource.get("patternType"));
            }
        }
        ResourceType kafkaType;
        switch (type) {
            case "topic": kafkaType = ResourceType.TOPIC; break;
            case "group": kafkaType = ResourceType.GROUP; break;
            case "transactionalId": kafkaType = ResourceType.TRANSACTIONAL_ID; break;
            case "cluster":
                // Strimzi: always the literal resource "kafka-cluster"; a cluster resource has no name.
                if (resource.has("name") || resource.has("patternType")) {
                    throw new SpecException("a cluster resource has no name or patternType");
                }
                return new ResourcePattern(ResourceType.CLUSTER, CLUSTER_NAME, PatternType.LITERAL);
            default: throw new SpecException("unknown resource type " + type);
        }
        JsonNode name = resource.get("name");
        if (name == null || !name.isTextual() || name.asText().isEmpty()) {
            throw new SpecException("Name is required for resource type: " + type);
        }
        return new ResourcePattern(kafkaType, name.asText(), patternType);
    }

    private static final String[][] OPERATIONS = {
        {"Read", "READ"}, {"Write", "WRITE"}, {"Create", "CREATE"}, {"Delete", "DELETE"}, {"Alter", "ALTER"},
        {"Describe", "DESCRIBE"}, {"ClusterAction", "CLUSTER_ACTION"}, {"AlterConfigs", "ALTER_CONFIGS"},
        {"DescribeConfigs", "DESCRIBE_CONFIGS"}, {"IdempotentWrite", "IDEMPOTENT_WRITE"}, {"All", "ALL"},
    };

    private static AclOperation operation(JsonNode op) {
        if (op != null && op.isTextual()) {
            for (String[] pair : OPERATIONS) {
                if (pair[0].equals(op.asText())) {
                    return AclOperation.valueOf(pair[1]);
                }
            }
        }
        throw new SpecException("unknown operation " + op);
    }

    // ---- back to Strimzi's format (describe) ---------------------------------------------------

    private static ObjectNode strimziRule(AclBinding b) {
        ObjectNode rule = JSON.createObjectNode();
        rule.put("type", b.entry().permissionType() == AclPermissionType.DENY ? "deny" : "allow");
        ObjectNode resource = rule.putObject("resource");
        switch (b.pattern().resourceType()) {
            case TOPIC: resource.put("type", "topic"); break;
            case GROUP: resource.put("type", "group"); break;
            case TRANSACTIONAL_ID: resource.put("type", "transactionalId"); break;
            case CLUSTER: resource.put("type", "cluster"); break;
            default: resource.put("type", b.pattern().resourceType().toString());
        }
        if (b.pattern().resourceType() != ResourceType.CLUSTER) {
            resource.put("name", b.pattern().name());
            resource.put("patternType", b.pattern().patternType() == PatternType.PREFIXED ? "prefix" : "literal");
        }
        String op = b.entry().operation().toString();
        for (String[] pair : OPERATIONS) {
            if (pair[1].equals(op)) {
                op = pair[0];
            }
        }
        rule.putArray("operations").add(op);
        rule.put("host", b.entry().host());
        return rule;
    }

    private static ArrayNode strimziRules(Collection<AclBinding> bindings) {
        ArrayNode out = JSON.createArrayNode();
        TreeSet<String> sorted = new TreeSet<>();
        for (AclBinding b : bindings) {
            sorted.add(strimziRule(b).toString());
        }
        for (String s : sorted) {
            try {
                out.add(JSON.readTree(s));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        return out;
    }

    // ---- the brokers ---------------------------------------------------------------------------

    private static <T> T await(org.apache.kafka.common.KafkaFuture<T> future) throws Exception {
        return future.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    private static AclBindingFilter principalFilter(String principal) {
        return new AclBindingFilter(ResourcePatternFilter.ANY,
            new AccessControlEntryFilter(principal, null, AclOperation.ANY, AclPermissionType.ANY));
    }

    private static Set<AclBinding> aclsOf(Admin admin, String principal) throws Exception {
        return new LinkedHashSet<>(await(admin.describeAcls(principalFilter(principal)).values()));
    }

    private static ObjectNode apply(Admin admin, List<DesiredUser> users, boolean prune, boolean manageAcls) throws Exception {
        ObjectNode out = JSON.createObjectNode();
        ArrayNode results = out.putArray("users");
        for (DesiredUser u : users) {
            // The credential first (ScramCredentialsOperator), then the ACLs (SimpleAclOperator).
            UserScramCredentialAlteration upsert = new UserScramCredentialUpsertion(u.name,
                new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, ITERATIONS), u.password.getBytes(StandardCharsets.UTF_8));
            await(admin.alterUserScramCredentials(List.of(upsert)).all());
            ObjectNode r = results.addObject();
            r.put("name", u.name);
            r.put("credential", "SCRAM-SHA-512");
            if (!manageAcls) {
                continue;
            }

            Set<AclBinding> current = aclsOf(admin, principal(u.name));
            List<AclBinding> create = new ArrayList<>();
            for (AclBinding b : u.acls) {
                if (!current.contains(b)) {
                    create.add(b);
                }
            }
            List<AclBindingFilter> remove = new ArrayList<>();
            for (AclBinding b : current) {
                if (!u.acls.contains(b)) {
                    remove.add(b.toFilter());
                }
            }
            if (!create.isEmpty()) {
                await(admin.createAcls(create).all());
            }
            if (!remove.isEmpty()) {
                await(admin.deleteAcls(remove).all());
            }
            r.put("aclsCreated", create.size());
            r.put("aclsDeleted", remove.size());
            r.put("acls", u.acls.size());
        }
        if (prune) {
            Set<String> keep = new TreeSet<>();
            for (DesiredUser u : users) {
                keep.add(u.name);
            }
            Set<String> known = knownUsers(admin, manageAcls);
            List<String> extra = new ArrayList<>();
            for (String name : known) {
                if (!keep.contains(name)) {
                    extra.add(name);
                }
            }
            if (!extra.isEmpty()) {
                delete(admin, extra, manageAcls);
            }
            ArrayNode pruned = out.putArray("pruned");
            extra.forEach(pruned::add);
        }
        return out;
    }

    /** Users with a SCRAM credential or an ACL (User: principals), never ANONYMOUS or `*`. */
    private static Set<String> knownUsers(Admin admin, boolean withAcls) throws Exception {
        Set<String> names = new TreeSet<>(await(admin.describeUserScramCredentials().users()));
        for (AclBinding b : withAcls ? await(admin.describeAcls(AclBindingFilter.ANY).values()) : List.<AclBinding>of()) {
            String p = b.entry().principal();
            if (p.startsWith("User:")) {
                names.add(p.substring("User:".length()));
            }
        }
        names.remove("ANONYMOUS");
        names.remove("*");
        return names;
    }

    private static ObjectNode delete(Admin admin, List<String> names, boolean withAcls) throws Exception {
        ObjectNode out = JSON.createObjectNode();
        ArrayNode results = out.putArray("deleted");
        for (String name : names) {
            if (name.equals("ANONYMOUS") || name.equals("*")) {
                throw new SpecException("refusing to delete User:" + name);
            }
            boolean credential = true;
            try {
                await(admin.alterUserScramCredentials(List.of(
                    new UserScramCredentialDeletion(name, ScramMechanism.SCRAM_SHA_512))).all());
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof ResourceNotFoundException)) {
                    throw e;
                }
                credential = false;
            }
            ObjectNode r = results.addObject();
            r.put("name", name);
            r.put("credentialDeleted", credential);
            if (withAcls) {
                Collection<AclBinding> removed = await(admin.deleteAcls(List.of(principalFilter(principal(name)))).all());
                r.put("aclsDeleted", removed.size());
            }
        }
        return out;
    }

    private static ObjectNode describe(Admin admin, List<String> names, boolean withAcls) throws Exception {
        Map<String, UserScramCredentialsDescription> creds = await(admin.describeUserScramCredentials().all());
        List<String> which = names.isEmpty() ? new ArrayList<>(knownUsers(admin, withAcls)) : names;
        ObjectNode out = JSON.createObjectNode();
        ObjectNode users = out.putObject("users");
        for (String name : which) {
            ObjectNode u = users.putObject(name);
            UserScramCredentialsDescription d = creds.get(name);
            ArrayNode mechanisms = u.putArray("credentials");
            if (d != null) {
                for (ScramCredentialInfo info : d.credentialInfos()) {
                    mechanisms.add(info.mechanism().mechanismName());
                }
            }
            if (withAcls) {
                u.set("acls", strimziRules(aclsOf(admin, principal(name))));
            }
        }
        return out;
    }
}
